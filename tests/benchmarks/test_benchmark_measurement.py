"""Benchmarks measure what the library's public constructors build: none sets an attribute of a
library object or module (a replaced model, runner or function would measure a Recognizer that no
user can build)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def library_attribute_stores(source: str) -> list[str]:
    """``x.attr = ...`` (or ``setattr(x, ...)``) where ``x`` is a name imported from ocr_lstm, a
    variable assigned from a call of one, or a parameter annotated with one."""
    tree = ast.parse(source)
    library: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ocr_lstm":
            library.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            library.update(alias.asname or alias.name for alias in node.names if alias.name.startswith("ocr_lstm"))

    def root(node: ast.expr) -> str | None:
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    objects = set(library)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and root(node.value) in library:
            objects.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.arg) and node.annotation is not None and root(node.annotation) in library:
            objects.add(node.arg)
    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        found += [ast.unparse(t) for t in targets if isinstance(t, ast.Attribute) and root(t) in objects]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            found += [ast.unparse(node)] if node.args and root(node.args[0]) in objects else []
    return found


def test_the_check_finds_a_replaced_model_runner_or_function() -> None:
    source = (
        "import ocr_lstm.recognition.recognizer as module\n"
        "from ocr_lstm.recognition.recognizer import Recognizer\n"
        "def swap(recognizer: Recognizer) -> None:\n"
        "    recognizer.model = None\n"
        "other = Recognizer()\n"
        "other.runner = None\n"
        "module.to_tensor = None\n"
        "setattr(other, 'decoder', None)\n"
        "class Mine:\n"
        "    pass\n"
        "mine = Mine()\n"
        "mine.box = 1\n"
    )
    assert sorted(library_attribute_stores(source)) == [
        "module.to_tensor", "other.runner", "recognizer.model", "setattr(other, 'decoder', None)"
    ]


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_a_benchmark_sets_no_attribute_of_a_library_object(script: Path) -> None:
    assert not library_attribute_stores(script.read_text(encoding="utf-8"))
