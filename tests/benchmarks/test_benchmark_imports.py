"""Benchmarks measure the library through its public modules, never through the CLI layer, the
service or training (import-linter cannot see them: the scripts are not a package)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# These measure training itself.
MEASURE_TRAINING = {"train_step.py", "synth_speed.py", "finetune_forgetting.py"}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_a_benchmark_imports_only_the_library(script: Path) -> None:
    forbidden = ["ocr_lstm.commands", "ocr_lstm.cli", "service"]
    if script.name not in MEASURE_TRAINING:
        forbidden.append("training")
    wrong = {m for m in imported_modules(script) for f in forbidden if m == f or m.startswith(f"{f}.")}
    assert not wrong, f"{script.name} imports {sorted(wrong)}"
