"""Rooms that say what they hold: no import circles among the portal's modules, no module over
400 lines, and every declared action backed by a policy rule (and no rule without an action)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from portal import policy
from portal.actions import ACTIONS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "search_index")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic's revisions import nothing of ours and are run one by one
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of ours that `name` imports, at the top or inside a function alike (a lazy
    import still ties the two modules together); only `if TYPE_CHECKING:` blocks are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node)
               for n in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    edges = {name: imports_of(name, path, known) for name, path in found.items()}
    # Importing a.b.c runs a/__init__ and a/b/__init__ first: an edge to a package's own parents
    # is not a choice the module made, so it does not count towards a circle.
    return {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in edges.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_a_circle_when_there_is_one():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_walker_reads_relative_and_lazy_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nfrom .sibling import x\n"
                      "def f():\n    from portal.policy import can\n"
                      "if TYPE_CHECKING:\n    from portal.actions import act\n")
    assert imports_of("portal.core.m", module, {"portal.core.sibling", "portal.policy", "portal.actions"}) == {
        "portal.core.sibling", "portal.policy"}


def test_no_import_circles():
    assert circles(graph()) == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_400_lines(name):
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by what it holds"


def test_every_declared_action_has_a_policy_rule():
    missing = [key for key in ACTIONS if key not in policy.RULES]  # the rule of an action has its (kind, name)
    assert missing == []


def test_every_policy_rule_belongs_to_a_declared_action():
    declared = set(ACTIONS)
    assert set(policy.RULES) - declared == set()
