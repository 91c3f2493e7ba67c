"""The benchmark scripts are not a package: tests load each from its file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    return load_script("peers")


@pytest.fixture(scope="module")
def accuracy() -> ModuleType:
    return load_script("accuracy")


@pytest.fixture(scope="module")
def load() -> ModuleType:
    return load_script("load")


@pytest.fixture(scope="module")
def word_prior() -> ModuleType:
    return load_script("word_prior")
