"""The HTML report's page: the template and its script and style (package data, kobench/report/assets/),
the parts drawn here (the per-task summary, the notes), the data blocks the script reads, and what keeps
the page safe to share: no local path of this machine, no secret, nothing the browser would fetch (a
Content-Security-Policy that allows data: images and the page's own script and style only).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from kobench.report.signatures import signature_differences, signature_parts
from kobench.results import TaskResult

ASSETS = ("report.html", "report.css", "report.js")
_SLOT = re.compile(r"<!--kobench:(\w+)-->")
# An absolute POSIX path (two parts at least), as an error message from the data layer may name one.
_ABSOLUTE = re.compile(r"(?<![\w.~:/-])/(?:[\w.@+-]+/)+([\w.@+-]+)")
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
MIN_SECRET_CHARS = 8  # shorter values ("1", "true") are settings, and would redact half the page
REDACTED = "[redacted]"


def asset(name: str) -> str:
    return resources.files("kobench.report").joinpath("assets", name).read_text(encoding="utf-8")


def fill(template: str, slots: Mapping[str, str]) -> str:
    """The template with each <!--kobench:NAME--> replaced, in one pass (what is put in is not read again)."""
    return _SLOT.sub(lambda m: slots[m.group(1)], template)


def json_block(element_id: str, data: Any) -> str:
    """A <script type="application/json"> block; "<" escaped, so no text in the data can close it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="{element_id}">{text}</script>\n'


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of environment variables whose names say they hold a secret (API keys, tokens)."""
    return sorted(
        {v for k, v in environ.items() if SECRET_NAME.search(k) and len(v.strip()) >= MIN_SECRET_CHARS},
        key=len,
        reverse=True,
    )


class Scrubber:
    """Writes local folders as the page names them (a results folder by its label, the working folder as
    ".", the home folder as "~") and secrets as [redacted]."""

    def __init__(self, folders: Mapping[Path, str], secrets: Sequence[str] = ()) -> None:
        known = {**{Path.home(): "~"}, **{Path.cwd(): "."}, **dict(folders)}
        spelled = {}
        for folder, label in known.items():
            for form in {str(folder), str(folder.resolve())}:
                if len(form) > 1:
                    spelled[form] = label
        # Longest first: a results folder inside the working folder is named by its own label.
        self._paths = [
            (re.compile(re.escape(form) + r"(?=/|\\|$|[\s)\"',;:\]])"), label)
            for form, label in sorted(spelled.items(), key=lambda item: -len(item[0]))
        ]
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern, label in self._paths:
            text = pattern.sub(lambda _m, s=label: s, text)
        return text

    def message(self, text: str) -> str:
        """A note kobench wrote (an error from reading data): also any other absolute path, by its name."""
        return _ABSOLUTE.sub(lambda m: "…/" + m.group(1), self(text))


# --- the per-task summary ------------------------------------------------------------------------


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def task_summary(result: TaskResult, pipeline: str) -> dict[str, Any]:
    """What the page says of one task of one model: its value and 95% interval, counts, signature."""
    piped = result.pipelines.get(pipeline)
    metric = piped.metrics.get(result.primary_metric) if piped else None
    truncation = result.truncation
    return {
        "metric": result.primary_metric,
        "direction": result.direction,
        "value": metric.value if metric else None,
        "ci": [metric.ci_low, metric.ci_high] if metric else [None, None],
        "n": result.n,
        "n_rows": result.n_rows,
        "failed": result.n_failed,
        "unparsed": {p: r.n_unparsed for p, r in result.pipelines.items()},
        "truncated": truncation.n_truncated if truncation else None,
        "complete": result.complete,
        "signature": piped.signature if piped else "",
        "judge": result.judge.model if result.judge else None,
        "failure_reasons": dict(result.failure_reasons),
    }


def _signature_cell(signature: str, first: str | None) -> str:
    parts = signature_parts(signature) if signature else {}
    short = " · ".join(f"{k} {parts[k]}" for k in ("prompt", "parser", "data") if k in parts) or "–"
    mark = ""
    differences = signature_differences(first, signature) if first and signature else []
    if differences:
        mark = f' <span class="mark" title="{html.escape("; ".join(differences))}">†</span>'
    summary = f"<summary>{html.escape(short)}{mark}</summary>"
    return f"<details>{summary}<code>{html.escape(signature)}</code></details>"


def summary_table(tasks: Iterable[tuple[str, str, list[tuple[str, TaskResult]]]], pipeline: str) -> str:
    """One row per task and model: value ± the 95% interval, n, unparsed, failed, truncated, signature
    († where it differs from the task's first model's: the numbers are not comparable)."""
    head = (
        "<tr><th>Category</th><th>Task</th><th>Model</th><th>Value [95% CI]</th><th>n / rows</th>"
        "<th>Unparsed (kobench / protocol)</th><th>Failed</th><th>Truncated</th><th>Signature</th></tr>"
    )
    lines = ['<table class="summary">', f"<thead>{head}</thead>", "<tbody>"]
    for category, task, models in tasks:
        first = None
        for n, (model, result) in enumerate(models):
            s = task_summary(result, pipeline)
            first = first if first is not None else s["signature"]
            low, high = s["ci"]
            ci = f" [{_number(low)}, {_number(high)}]" if low is not None and high is not None else ""
            incomplete = "" if s["complete"] else ' <span class="mark" title="incomplete run">*</span>'
            unparsed = " / ".join(str(s["unparsed"].get(p, "–")) for p in ("kobench", "protocol"))
            truncated = "–" if s["truncated"] is None else str(s["truncated"])
            lead = (
                f"<td>{html.escape(category)}</td><td>{html.escape(task)}</td>"
                if n == 0
                else "<td></td><td></td>"
            )
            lines.append(
                f"<tr>{lead}<td>{html.escape(model)}</td>"
                f"<td>{html.escape(s['metric'])} {_number(s['value'])}{ci}{incomplete}</td>"
                f"<td>{s['n']} / {s['n_rows']}</td><td>{unparsed}</td><td>{s['failed']}</td>"
                f"<td>{truncated}</td>"
                f"<td>{_signature_cell(s['signature'], first)}</td></tr>"
            )
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def notes_list(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f'<section id="notes"><h2>Notes</h2><ul>{items}</ul></section>'
