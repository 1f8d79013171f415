"""Rows that hold a list of records, read as one row per record (`dataset.records` in a task file).

MTVQA keeps each image once, with its questions in one cell (`qa_pairs`, the Python literal of a list of
{"question": ..., "answer": ...}); lmms-eval's `mtvqa_process_docs` flattens them into one document per
question before anything else. Doing the same when the data is read lets everything after it (ids,
`--limit`, split files, the dataset identity) count questions, as the published numbers do.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from typing import Any

from kobench.data.formats import plain
from kobench.data.loader import Table
from kobench.errors import BadInputError, where

# The column that says where in its row's list a record was (0, 1, ...).
RECORD_COLUMN = "record"


def _records(value: Any, origin: str, number: int, column: str) -> list[dict[str, Any]]:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = ast.literal_eval(text) if text else []
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            try:
                value = json.loads(text)  # JSON's true / false / null are no Python literals
            except ValueError as exc:
                raise BadInputError(
                    f"{where(origin, number, column)}: not a list of records (Python or JSON literal): {exc}"
                ) from exc
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(r, dict) and all(isinstance(k, str) for k in r) for r in value
    ):
        raise BadInputError(
            f"{where(origin, number, column)}: expected a list of records ({{name: value}}, names as text)"
        )
    return [plain(r) for r in value]


def explode_records(table: Table, column: str | None) -> Table:
    """One row per record of `column`, rows in file order and each row's records in list order: the row's
    other columns, the record's keys as columns (None where a record lacks one) and `record`, its position
    in the list. A row whose list is empty or missing gives no row, as lmms-eval's flattening does.
    BadInputError for a missing column, a cell that is no list of records, or a record key that is
    already a column."""
    if column is None:
        return table
    if column not in table.columns:
        raise BadInputError(
            f"{table.origin}: dataset.records names column {column!r}; the data has: "
            f"{', '.join(table.columns)}"
        )
    kept = [c for c in table.columns if c != column]
    keys: list[str] = []
    rows = []
    for number, row in enumerate(table.rows, 1):
        base = {c: row.get(c) for c in kept}
        for position, record in enumerate(_records(row.get(column), table.origin, number, column)):
            clash = [k for k in record if k in base or k == RECORD_COLUMN]
            if clash:
                raise BadInputError(
                    f"{where(table.origin, number, column)}: record key(s) {clash} are already columns"
                )
            keys.extend(k for k in record if k not in keys)
            rows.append({**base, **record, RECORD_COLUMN: position})
    columns = [*kept, *keys, RECORD_COLUMN]
    return replace(table, rows=[{c: r.get(c) for c in columns} for r in rows], columns=columns)
