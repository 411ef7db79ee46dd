"""The fault table (tests/faults/README.md) cannot rot: every class names real tests and a fate.

Expected fate of a rotten table: this test fails naming the row and the missing test node.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = Path(__file__).with_name("README.md")
NODE = re.compile(r"`(tests/[^`:]+\.py)::([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)?)`")
PENDING = re.compile(r"^pending: issue 10 item (\d+)$")
OTHERS_ITEMS = {1, 2, 3, 4, 5, 11, 12}  # items other changes add tests for; this suite owns 6-10


def _rows() -> list[tuple[str, str, str]]:
    """(fault class, expected fate, covered by) for every data row of every table in the README."""
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) != 3 or cells[0] == "fault class" or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def _defined(path: Path, name: str) -> bool:
    """A module-level ``def name`` (or ``Class::method``) in ``path``, found without importing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scope: list[ast.stmt] = tree.body
    *classes, func = name.split("::")
    for cls in classes:
        found = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == cls]
        if not found:
            return False
        scope = found[0].body
    return any(isinstance(n, ast.FunctionDef) and n.name == func for n in scope)


def test_every_fault_class_names_existing_tests_and_a_fate() -> None:
    """Fate: each row has a fate and names only existing test nodes (or a pending item of another change)."""
    rows = _rows()
    assert len(rows) >= 30
    problems = []
    for fault, fate, covered in rows:
        if not fate:
            problems.append(f"{fault}: no expected fate")
        pending = PENDING.match(covered)
        if pending:
            if int(pending.group(1)) not in OTHERS_ITEMS:
                problems.append(f"{fault}: items 6-10 are this suite's own and may not be pending")
            continue
        nodes = NODE.findall(covered)
        if not nodes or NODE.sub("", covered).strip(" ,") != "":
            problems.append(f"{fault}: the test column must list `path::test` nodes only: {covered!r}")
        for rel, name in nodes:
            path = REPO / rel
            if not path.is_file() or not _defined(path, name):
                problems.append(f"{fault}: {rel}::{name} does not exist")
    assert problems == []


def test_every_test_in_this_folder_is_in_the_table_and_states_its_fate() -> None:
    """Fate: a fault test missing from the table, or without a ``Fate:`` docstring, is named here."""
    listed = {f"{rel}::{name}" for _, _, covered in _rows() for rel, name in NODE.findall(covered)}
    problems = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        rel = path.relative_to(REPO).as_posix()
        module = ast.parse(path.read_text(encoding="utf-8"))
        if not (ast.get_docstring(module) or "").strip():
            problems.append(f"{rel}: no module docstring naming the fault class")
        for node in module.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                if f"{rel}::{node.name}" not in listed:
                    problems.append(f"{rel}::{node.name} is not in tests/faults/README.md")
                if not (ast.get_docstring(node) or "").startswith("Fate:"):
                    problems.append(f"{rel}::{node.name}: docstring must start with 'Fate:'")
    assert problems == []
