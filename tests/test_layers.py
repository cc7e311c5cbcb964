"""No import cycle anywhere in qdx, module by module (grimp, which import-linter is built on).

import-linter's contracts in pyproject.toml (run by ``lint-imports`` in .ci/run) keep the
layers; this test looks at every module and every import, including those inside functions,
and finds modules that import each other. Imports under ``if TYPE_CHECKING:`` only name types
for the checker and never run, so, as in the contracts, they are no dependency.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")

ROOT = Path(__file__).parent.parent


def _ignored() -> set[tuple[str, str]]:
    """The imports the acyclic contract ignores (waiting for a move), as (importer, imported)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    acyclic = next(c for c in contracts if c["type"] == "acyclic_siblings")
    pairs = (entry.split(" -> ") for entry in acyclic.get("ignore_imports", []))
    return {(a.strip(), b.strip()) for a, b in pairs}


def _graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("qdx", exclude_type_checking_imports=True)
    ignored = _ignored()
    # The facade `qdx` imports its exports only under TYPE_CHECKING (tests/test_public_api.py
    # checks it imports nothing at run time): its edges are for type checkers, not a dependency.
    return {
        module: {t for t in graph.find_modules_directly_imported_by(module) if (module, t) not in ignored}
        for module in graph.modules
        if module != "qdx"
    }


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for child in graph.get(todo.pop(), set()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or not (a module count of 80
    makes reachability from every module cheap enough)."""
    reach = {module: _reach(graph, module) for module in graph}
    groups = {
        tuple(sorted(m for m in reach[module] if module in reach.get(m, set())))
        for module in graph
        if module in reach[module]
    }
    return sorted(list(group) for group in groups if len(group) > 1)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e", "d"}, "f": {"g"}, "g": {"f"}}
    assert cycles(graph) == [["a", "b", "c"], ["f", "g"]]


def test_the_graph_is_the_whole_package() -> None:
    graph = _graph()
    assert len(graph) == len(list((ROOT / "qdx").rglob("*.py"))) - 1  # every module but the facade
    assert "qdx.analysis.cooccurrence" in graph["qdx.analysis.matrix"]  # function-level imports count


def test_no_module_imports_itself_back() -> None:
    assert cycles(_graph()) == []
