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


def load_report_inputs(paths: Sequence[Path]) -> ReportInputs:
    """Each path's runs, efficiency measurements and other harnesses' scores: a folder gives its
    results.json and its tokens.json / speed.json, or else every run, efficiency file and lmms-eval /
    VLMEvalKit file below it (results/ holding one folder per model); a file is read as what its name
    (or, for JSON, its content) says."""
    inputs = ReportInputs()
    for path in map(Path, paths):
        if path.is_dir():
            measured = efficiency_files(path)
            if (path / "results.json").is_file():
                inputs.results.append(load_results(path / "results.json"))
            elif not measured:
                runs = sorted(path.rglob("results.json"))
                measured = [p for name in FILE_NAMES.values() for p in sorted(path.rglob(name))]
                found = harness_files(path)
                if not (runs or measured or found):
                    raise BadInputError(
                        f"{path}: no results.json, {' or '.join(FILE_NAMES.values())} in this folder or below"
                        " it, nor lmms-eval's *_results.json or VLMEvalKit's *_acc / *_score files"
                    )
                inputs.results.extend(load_results(p) for p in runs if p.is_file())
                inputs.imported.extend(load_imported(p) for p in found)
            inputs.efficiency.extend(load_efficiency(p) for p in measured)
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
