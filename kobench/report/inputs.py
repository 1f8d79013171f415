"""What `kobench table`, `readme` and `plot` read: run results (results.json), efficiency files
(tokens.json, speed.json) and other harnesses' results (lmms-eval's results JSON, VLMEvalKit's score
files: kobench.report.importers), given as files or as the folders that hold them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kobench.efficiency import FILE_NAMES, EfficiencyResult, efficiency_files, load_efficiency
from kobench.errors import BadInputError
from kobench.report.importers import ImportedResult, harness_files, harness_of, load_imported
from kobench.results import RunResult, load_results


@dataclass(frozen=True)
class ReportInputs:
    results: list[RunResult] = field(default_factory=list)
    efficiency: list[EfficiencyResult] = field(default_factory=list)
    imported: list[ImportedResult] = field(default_factory=list)  # shown in tables, never gated


def result_folders(path: Path) -> list[Path]:
    """`path` itself, unless it is a folder with no results.json, tokens.json or speed.json of its own
    (results/, holding one folder per model): then each folder below it that has one."""
    if not path.is_dir() or (path / "results.json").is_file() or efficiency_files(path):
        return [path]
    names = ("results.json", *FILE_NAMES.values())
    return sorted({found.parent for name in names for found in path.rglob(name) if found.is_file()})


def load_report_inputs(paths: Sequence[Path]) -> ReportInputs:
    """Each path's runs, efficiency measurements and other harnesses' scores: a folder gives its
    results.json and its tokens.json / speed.json, or else those of every folder below it and every
    lmms-eval / VLMEvalKit file below it; a file is read as what its name (or, for JSON, its content)
    says."""
    inputs = ReportInputs()
    for path in map(Path, paths):
        if path.is_dir():
            folders = result_folders(path)
            if folders == [path]:
                if (path / "results.json").is_file():
                    inputs.results.append(load_results(path / "results.json"))
                inputs.efficiency.extend(load_efficiency(p) for p in efficiency_files(path))
                continue
            found = harness_files(path)
            if not (folders or found):
                raise BadInputError(
                    f"{path}: no results.json, {' or '.join(FILE_NAMES.values())} in this folder or below"
                    " it, nor lmms-eval's *_results.json or VLMEvalKit's *_acc / *_score files"
                )
            below = load_report_inputs(folders)
            inputs.results.extend(below.results)
            inputs.efficiency.extend(below.efficiency)
            inputs.imported.extend(load_imported(p) for p in found)
        elif path.name in FILE_NAMES.values():
            inputs.efficiency.append(load_efficiency(path))
        elif harness_of(path) is not None:
            inputs.imported.append(load_imported(path))
        elif path.suffix.lower() != ".json" and path.is_file():  # a glob's report.png, say
            raise BadInputError(
                f"{path}: not a results file (kobench's results.json, {' or '.join(FILE_NAMES.values())};"
                " lmms-eval's results JSON; VLMEvalKit's *_acc / *_score .csv / .xlsx), nor a folder"
            )
        else:
            inputs.results.append(load_results(path))
    return inputs


def load_inputs(paths: Sequence[Path]) -> tuple[list[RunResult], list[EfficiencyResult]]:
    """Runs and efficiency measurements only (load_report_inputs without other harnesses' files, which
    are refused here, by name, rather than misread as kobench results)."""
    inputs = load_report_inputs(paths)
    if inputs.imported:
        names = ", ".join(f"{r.file} ({r.source})" for r in inputs.imported)
        raise BadInputError(f"other harnesses' results are not read here: {names}")
    return inputs.results, inputs.efficiency
