"""Other harnesses' scores for kobench's tables: lmms-eval's results JSON and VLMEvalKit's score files.

These numbers are shown as the harness reported them, never re-scored and never gated: its file holds
aggregates only (no per-unit scores to pair, no signature to compare), made with its own prompts, parsers
and data. The tables mark each such row with its source, and a benchmark that kobench and another harness
both report is shown twice, once per source (kobench.report.leaderboard.imported_rows).

lmms-eval (`--output_path OUT` writes OUT/<model>/<date>_results.json): "results" maps each task to
{"metric,filter": value, "metric_stderr,filter": stderr}; "configs" gives each task's metric_list (the first
metric is the row's) and split, "higher_is_better" the direction, "n-samples" the rows (effective <
original: a --limit run, marked incomplete), "config" the model_args. Tasks inside a group
("group_subtasks") are left out: the group is the row.

VLMEvalKit (`run.py --work-dir W` writes W/<model>/<eval id>/<model>_<dataset>_acc.csv, or _score.csv; some
benchmarks, and versions before September 2025, .xlsx). Three layouts, each read as the code that writes it
(open-compass/VLMEvalKit at e8e78f05):
- one row, a column per group with "Overall" first: ImageVQADataset.evaluate_heuristic in
  vlmeval/dataset/image_vqa.py (d2df(ret), values ×100);
- one row per split, a "split" column then "Overall" and the categories: report_acc in
  vlmeval/dataset/utils/multiple_choice.py (fractions; the split goes into the benchmark's name);
- one row per group, a label column then counts and "acc": MathVista_acc in
  vlmeval/dataset/utils/mathvista.py (the "Overall" row's acc, in %, and its "tot" as n).
A file of per-sample scores (a "prediction" column, e.g. MME-RealWorld's _score.xlsx) is refused: its
aggregate is the harness's to compute. The model is the folder VLMEvalKit named after it, the benchmark
what the file name holds between the model and "_acc" / "_score".

Scale: a value between 0 and 1 is a fraction and is shown ×100, as kobench shows accuracies; any other
value is on its metric's own scale (an MME score, a percentage) and is shown as it is. In VLMEvalKit's
files the whole row (or the whole value column) decides, as its layouts mix the two: ImageVQADataset writes
percentages, report_acc fractions.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kobench.errors import BadInputError
from kobench.files.text import read_utf8
from kobench.models.fingerprint import looks_like_path

LMMS_EVAL = "lmms-eval"
VLMEVALKIT = "VLMEvalKit"
SOURCES = (LMMS_EVAL, VLMEVALKIT)
GATE_REFUSAL = (
    "other harnesses' numbers are shown by `kobench table`, `readme` and `plot` (each row marked by its"
    " source) but never gated: such a file has no per-unit scores to pair and no signature to compare;"
    " gate two kobench runs (results.json)"
)
Z95 = 1.959963984540054  # a standard error × this = half a 95% normal interval

# The English benchmarks model cards list beside Korean ones, by each harness's names for them (lower case,
# separators dropped): (benchmark as the table names it, kobench category). A name not here is shown as the
# harness wrote it (in the category of a known name it starts with, else "Other"). Two harnesses' names for
# one benchmark map to one name, so the table shows their rows side by side.
KNOWN_BENCHMARKS = {
    "chartqa": ("ChartQA", "Chart"),
    "chartqatest": ("ChartQA", "Chart"),
    "docvqaval": ("DocVQA val", "Document"),
    "docvqatest": ("DocVQA test", "Document"),
    "infovqaval": ("InfoVQA val", "Document"),
    "infovqatest": ("InfoVQA test", "Document"),
    "seedbench2plus": ("SEEDBench2-Plus", "Document"),
    "textvqaval": ("TextVQA val", "OCR"),
    "ocrbench": ("OCRBench", "OCR"),
    "ocrbenchv2": ("OCRBench v2", "OCR"),
    "mmmuval": ("MMMU val", "Knowledge"),
    "mmmudevval": ("MMMU", "Knowledge"),  # VLMEvalKit: one row per split, "MMMU val" and "MMMU dev"
    "mathvistatestmini": ("MathVista testmini", "Knowledge"),
    "mathvistamini": ("MathVista testmini", "Knowledge"),
    "scienceqaimg": ("ScienceQA-IMG", "Knowledge"),
    "ai2d": ("AI2D", "Chart"),
    "ai2dtest": ("AI2D", "Chart"),
    "mmbenchendev": ("MMBench dev", "General"),
    "mmbenchdeven": ("MMBench dev", "General"),
    "mmbenchdevenv11": ("MMBench v1.1 dev", "General"),
    "mmstar": ("MMStar", "General"),
    "realworldqa": ("RealWorldQA", "General"),
    "hallusionbench": ("HallusionBench", "General"),
    "hallusionbenchimage": ("HallusionBench", "General"),
    "mmvet": ("MM-Vet", "General"),
}
SPLIT_NAMES = {"validation": "val", "dev": "dev", "test": "test"}
OTHER = "Other"
_JUDGE = re.compile(r"_((?:chat)?gpt[\w.-]*|exact_matching|qwen[\w.-]*|deepseek[\w.-]*)$", re.IGNORECASE)
_SCORE_FILE = re.compile(r"^(?P<stem>.+)_(?P<kind>acc|score)\.(?P<ext>csv|xlsx)$", re.IGNORECASE)
# VLMEvalKit's eval ids: "T20261203-143000" (build_eval_id), older "T20250101_G<git hash>".
_EVAL_ID = re.compile(r"^T(\d{8})(?:-(\d{6}))?")


@dataclass(frozen=True)
class ImportedScore:
    """One benchmark's number as another harness reported it, in points (×100 where it was a fraction)."""

    benchmark: str  # as the table names it ("ChartQA"), or the harness's own name when not known
    harness_name: str  # the harness's name for it ("chartqa", "ChartQA_TEST")
    category: str
    metric: str
    value: float
    direction: Literal["higher", "lower"] = "higher"
    ci: float | None = None  # half-width of a 95% normal interval from the reported standard error
    n: int | None = None
    complete: bool = True  # False: the harness ran a subset (lmms-eval's --limit)
    settings: str = ""  # what two cells of a row must share to sit unmarked: harness version, metric, split
    modality: str = "image"


@dataclass(frozen=True)
class ImportedResult:
    """The scores one file of another harness reports for one model."""

    source: str  # LMMS_EVAL or VLMEVALKIT
    model: str
    file: str  # the file's name, for messages (no folder: tables never show local paths)
    created: str  # sortable; the newest file's score wins when two report one benchmark for one model
    version: str | None
    scores: tuple[ImportedScore, ...]


def benchmark_key(name: str) -> str:
    """The name two harnesses (and kobench) would agree on: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def known(harness_name: str) -> tuple[str, str]:
    """(benchmark, category): a known name's; for a variant of one ("chartqa_lite", "docvqa_val_local"),
    the harness's own name in that benchmark's category; else the name in OTHER."""
    key = benchmark_key(harness_name)
    if key in KNOWN_BENCHMARKS:
        return KNOWN_BENCHMARKS[key]
    stems = [k for k in KNOWN_BENCHMARKS if key.startswith(k)]
    return harness_name, KNOWN_BENCHMARKS[max(stems, key=len)][1] if stems else OTHER


def _points(value: float) -> tuple[float, float]:
    """(value in points, the factor applied): fractions ×100, any other value as it is."""
    factor = _scale([value])
    return value * factor, factor


def _scale(values: Sequence[float | None]) -> float:
    """100 when every number given lies between 0 and 1 (fractions), else 1 (already on its scale)."""
    numbers = [v for v in values if v is not None]
    return 100.0 if numbers and all(0.0 <= v <= 1.0 for v in numbers) else 1.0


# --- which harness wrote a file ----------------------------------------------------------------


def harness_of(path: Path) -> str | None:
    """LMMS_EVAL, VLMEVALKIT, or None (a kobench file or something else) for one file."""
    path = Path(path)
    if _SCORE_FILE.match(path.name):
        return VLMEVALKIT
    if path.suffix.lower() != ".json" or path.name in ("tokens.json", "speed.json"):
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return LMMS_EVAL if _is_lmms_eval(data) else None


def _is_lmms_eval(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("results"), dict)
        and isinstance(data.get("configs"), dict)
        and ("lmms_eval_version" in data or "n-samples" in data)
    )


def harness_files(folder: Path) -> list[Path]:
    """Every other harness's file under `folder` (VLMEvalKit's links to its files counted once)."""
    seen: dict[Path, Path] = {}
    for path in sorted(Path(folder).rglob("*")):
        # lmms-eval names its file <date>_results.json; its samples (.jsonl) and anything else are not read.
        named = _SCORE_FILE.match(path.name) or path.name.endswith("_results.json")
        if named and path.is_file() and harness_of(path) is not None:
            seen.setdefault(path.resolve(), path)
    return list(seen.values())


def load_imported(path: Path) -> ImportedResult:
    """One other harness's file, read as the harness that wrote it; BadInputError when it is neither's."""
    path = Path(path)
    harness = harness_of(path)
    if harness == LMMS_EVAL:
        return load_lmms_eval(path)
    if harness == VLMEVALKIT:
        return load_vlmevalkit(path)
    raise BadInputError(
        f"{path.name}: neither lmms-eval's results JSON nor VLMEvalKit's <model>_<dataset>_acc.csv /"
        " _score.csv (or .xlsx)"
    )


# --- lmms-eval ---------------------------------------------------------------------------------


def load_lmms_eval(path: Path) -> ImportedResult:
    try:
        data = json.loads(read_utf8(Path(path)))
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{path}: cannot read lmms-eval's results: {exc}") from exc
    if not _is_lmms_eval(data):
        raise BadInputError(f"{path}: not lmms-eval's results JSON (no 'results' and 'configs')")
    version = data.get("lmms_eval_version")
    inside = {t for subtasks in (data.get("group_subtasks") or {}).values() for t in subtasks}
    scores = []
    for task, values in data["results"].items():
        if task in inside or not isinstance(values, dict):
            continue
        score = _lmms_eval_score(task, values, data, version)
        if score is not None:
            scores.append(score)
    if not scores:
        raise BadInputError(f"{path}: lmms-eval's results hold no scored task (did the evaluation fail?)")
    return ImportedResult(
        source=LMMS_EVAL,
        model=_lmms_eval_model(data),
        file=Path(path).name,
        created=str(data.get("date") or ""),
        version=version,
        scores=tuple(scores),
    )


def _lmms_eval_model(data: dict[str, Any]) -> str:
    """As kobench names an hf model: a Hub id as it is, a local folder by its name."""
    config = data.get("config") or {}
    args = dict(part.split("=", 1) for part in str(config.get("model_args") or "").split(",") if "=" in part)
    target = args.get("pretrained") or args.get("model") or data.get("model_name") or config.get("model")
    if not target:
        raise BadInputError("lmms-eval's results name no model (config.model_args has no pretrained=)")
    target = str(target).rstrip("/")
    return target.rsplit("/", 1)[-1] if looks_like_path(target) or target.startswith("<") else target


def _lmms_eval_metrics(task: str, values: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, filter) pairs in the task's metric_list order (filter "none" first), then any others."""
    listed = [m.get("metric") for m in (data["configs"].get(task) or {}).get("metric_list") or []]
    present = [
        (metric, filt)
        for metric, filt in (key.split(",", 1) for key in values if "," in key)
        if "_stderr" not in metric
    ]
    filters = [f for _, f in present]
    order = {name: n for n, name in enumerate(listed)}
    return sorted(present, key=lambda p: (order.get(p[0], len(order)), p[1] != "none", filters.index(p[1])))


def _lmms_eval_score(
    task: str, values: dict[str, Any], data: dict[str, Any], version: str | None
) -> ImportedScore | None:
    for metric, filt in _lmms_eval_metrics(task, values, data):
        value = values[f"{metric},{filt}"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        points, factor = _points(float(value))
        stderr = values.get(f"{metric}_stderr,{filt}")
        ci = Z95 * float(stderr) * factor if isinstance(stderr, int | float) and stderr > 0 else None
        higher = (data.get("higher_is_better") or {}).get(task, {}).get(metric, True)
        counts = (data.get("n-samples") or {}).get(task) or {}
        n = counts.get("effective")
        complete = (data.get("config") or {}).get("limit") is None and counts.get("original") in (None, n)
        config = data["configs"].get(task) or {}
        split = config.get("test_split") or config.get("validation_split")
        benchmark, category = known(task)
        return ImportedScore(
            benchmark=benchmark,
            harness_name=task,
            category=category,
            metric=metric if filt == "none" else f"{metric} ({filt})",
            value=points,
            direction="higher" if higher else "lower",
            ci=ci,
            n=int(n) if isinstance(n, int | float) else None,
            complete=complete,
            settings=f"{LMMS_EVAL}@{version}|task:{task}|split:{split}|metric:{metric},{filt}",
        )
    return None


# --- VLMEvalKit --------------------------------------------------------------------------------


def _read_table(path: Path) -> list[list[Any]]:
    """The first sheet (xlsx) or the file (csv) as rows of cells, header first."""
    if path.suffix.lower() == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                return [row for row in csv.reader(fh) if row]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise BadInputError(f"{path}: cannot read: {exc}") from exc
    try:
        import openpyxl
    except ImportError as exc:
        raise BadInputError(f"{path.name}: reading .xlsx needs openpyxl (pip install openpyxl)") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    except Exception as exc:  # openpyxl raises many kinds for a broken or foreign file
        raise BadInputError(f"{path}: cannot read as .xlsx: {exc}") from exc
    return [row for row in rows if any(cell not in (None, "") for cell in row)]


def _number(cell: Any) -> float | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        return float(cell)
    try:
        return float(str(cell).strip())
    except ValueError:
        return None


def _vlmevalkit_names(path: Path) -> tuple[str, str, str | None, str]:
    """(model, dataset, judge, eval id's time) from the path
    WORK/<model>/[<eval id>/]<model>_<dataset>[_<judge>]_acc.csv (or _score; .csv or .xlsx)."""
    match = _SCORE_FILE.match(path.name)
    if match is None:
        raise BadInputError(f"{path.name}: VLMEvalKit's score files end in _acc or _score, .csv or .xlsx")
    stem = match["stem"]
    for folder in path.resolve().parents:
        if stem.startswith(folder.name + "_") and len(stem) > len(folder.name) + 1:
            model, rest = folder.name, stem[len(folder.name) + 1 :]
            break
    else:
        raise BadInputError(
            f"{path.name}: cannot tell the model from the file's name; keep VLMEvalKit's layout,"
            " WORK/<model>/<eval id>/<model>_<dataset>_acc.csv"
        )
    judge = _JUDGE.search(rest)
    dataset = rest[: judge.start()] if judge else rest
    created = next((m[1] + (m[2] or "") for p in path.parents if (m := _EVAL_ID.match(p.name))), "")
    return model, dataset, judge[1] if judge else None, created


def load_vlmevalkit(path: Path) -> ImportedResult:
    path = Path(path)
    model, dataset, judge, created = _vlmevalkit_names(path)
    rows = _read_table(path)
    if len(rows) < 2:
        raise BadInputError(f"{path.name}: no scores (a header and no rows)")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    if "prediction" in header:
        raise BadInputError(
            f"{path.name}: VLMEvalKit's per-sample scores, not its summary; give the _acc.csv (or"
            " _score.csv) it wrote beside them"
        )
    body = [dict(zip(header, row, strict=False)) for row in rows[1:]]
    benchmark, category = known(dataset)
    base = f"{VLMEVALKIT}|dataset:{dataset}" + (f"|judge:{judge}" if judge else "")

    def score(name: str, metric: str, value: float | None, scale: float, split: str | None, n: Any = None):
        if value is None:
            raise BadInputError(f"{path.name}: {metric!r} is not a number")
        count = _number(n)
        return ImportedScore(
            benchmark=name,
            harness_name=dataset,
            category=category,
            metric=metric,
            value=value * scale,
            n=int(count) if count is not None and count == int(count) else None,
            settings=f"{base}|split:{split}|metric:{metric}",
        )

    if "Overall" in header:  # d2df(ret): one row; report_acc: a row per split
        scores = []
        for row in body:
            split = str(row.get("split", "")).strip()
            named = benchmark if split in ("", "none") else f"{benchmark} {SPLIT_NAMES.get(split, split)}"
            groups = [_number(v) for k, v in row.items() if k != "split"]
            value = _number(row["Overall"])
            scores.append(score(named, "Overall", value, _scale(groups), split or None))
    else:  # a label column, then counts and the value: the "Overall" row
        label = header[0]
        metric = next((m for m in ("acc", "accuracy", "score", "Score") if m in header), None)
        overall = next((r for r in body if str(r.get(label, "")).strip().lower() == "overall"), None)
        if metric is None or overall is None:
            raise BadInputError(
                f"{path.name}: no 'Overall' column, nor an 'Overall' row with an acc / score column"
                f" (columns: {', '.join(header)})"
            )
        scale = _scale([_number(r.get(metric)) for r in body])
        scores = [score(benchmark, metric, _number(overall[metric]), scale, None, overall.get("tot"))]
    return ImportedResult(
        source=VLMEVALKIT,
        model=model,
        file=path.name,
        created=created,
        version=None,
        scores=tuple(scores),
    )


def newest_scores(imported: Sequence[ImportedResult]) -> dict[tuple[str, str, str], ImportedScore]:
    """(source, benchmark, model) -> the score of the newest file that reports it."""
    out: dict[tuple[str, str, str], ImportedScore] = {}
    for result in sorted(imported, key=lambda r: r.created):
        for s in result.scores:
            out[(result.source, s.benchmark, result.model)] = s
    return out
