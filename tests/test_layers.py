"""The house rules of kobench's imports: the layers in pyproject.toml ([tool.importlinter]), no import
cycle anywhere, and no module importing the package root (an import that runs back up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp", reason="the layering checks need import-linter (kobench[test])")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("kobench")


def test_the_layers_contract_holds() -> None:
    # In a process of its own: import-linter reconfigures logging, which other tests read.
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports('pyproject.toml'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def _cycles(adjacency: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in adjacency:
        if start in index:
            continue
        work = [(start, iter(adjacency[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(adjacency[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _cycles({"a": ["b"], "b": [], "c": ["b"]}) == []


def test_no_import_cycle(graph) -> None:
    # Imports inside functions count too: a lazy import that closes a loop is still a loop.
    adjacency = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    assert _cycles(adjacency) == []


def test_no_module_imports_the_package_root(graph) -> None:
    imports_root = [m for m in graph.modules if "kobench" in graph.find_modules_directly_imported_by(m)]
    assert sorted(m for m in imports_root if m != "kobench") == []


def test_top_level_modules_are_few() -> None:
    # interface (cli, api), configuration and the shared primitives; everything else lives in a package
    names = sorted(p.stem for p in (ROOT / "kobench").glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(names) <= 11, names
