"""The repository's top-level packages depend on each other in one direction only: every import,
including those inside functions, is read from the source (nothing is imported to find out)."""

from __future__ import annotations

import ast
from pathlib import Path

from nis2_settings import ROOT

PACKAGES = {
    "nis2_settings": ROOT / "nis2_settings",
    "monitor": ROOT / "monitor",
    "pipeline": ROOT / "pipeline",
    "report": ROOT / "report",
    "simulator": ROOT / "simulator",
    "tap_didit": ROOT / "tap-didit" / "tap_didit",
}


def _imported_packages(source: Path) -> set[str]:
    """Top-level package names a module imports anywhere in its body."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def dependency_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package, folder in PACKAGES.items():
        used = set().union(*(_imported_packages(p) for p in folder.rglob("*.py")))
        graph[package] = (used & PACKAGES.keys()) - {package}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that returns to its start, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_top_level_packages() -> None:
    graph = dependency_graph()
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"


def test_settings_and_report_stand_below_the_pipeline() -> None:
    """Settings have one home that imports no other package; the report reads settings, never
    the pipeline's orchestration (the pipeline calls the report, not the other way round)."""
    graph = dependency_graph()
    assert graph["nis2_settings"] == set()
    assert "pipeline" not in graph["report"]
    assert graph["tap_didit"] == set(), "tap-didit is published alone: it imports none of ours"
