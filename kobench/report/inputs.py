"""What `kobench table`, `readme` and `plot` read: run results (results.json) and efficiency files
(tokens.json, speed.json), given as files or as the folders that hold them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kobench.efficiency import FILE_NAMES, EfficiencyResult, efficiency_files, load_efficiency
from kobench.errors import BadInputError
from kobench.results import RunResult, load_results


def load_inputs(paths: Sequence[Path]) -> tuple[list[RunResult], list[EfficiencyResult]]:
    """Each path's runs and efficiency measurements: a folder gives its results.json and its tokens.json /
    speed.json (at least one of them); a file is read as what its name says."""
    results: list[RunResult] = []
    efficiency: list[EfficiencyResult] = []
    for path in map(Path, paths):
        if path.is_dir():
            measured = efficiency_files(path)
            if not (path / "results.json").is_file() and not measured:
                raise BadInputError(
                    f"{path}: no results.json, {' or '.join(FILE_NAMES.values())} in this folder"
                )
            if (path / "results.json").is_file():
                results.append(load_results(path / "results.json"))
            efficiency.extend(load_efficiency(p) for p in measured)
        elif path.name in FILE_NAMES.values():
            efficiency.append(load_efficiency(path))
        else:
            results.append(load_results(path))
    return results, efficiency
