"""The benchmark scripts are not a package: tests load each from its file."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from word_images import render_word

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _script_fixture(name: str) -> Callable[[], ModuleType]:
    @pytest.fixture(scope="module", name=name)
    def script() -> ModuleType:
        return load_script(name)

    return script


peers = _script_fixture("peers")
accuracy = _script_fixture("accuracy")
load = _script_fixture("load")
word_prior = _script_fixture("word_prior")
compare = _script_fixture("compare")
lines = _script_fixture("lines")
scenes = _script_fixture("scenes")
whole_process = _script_fixture("whole_process")
uniform_graph = _script_fixture("uniform_graph")


@pytest.fixture()
def rendered_sets(tmp_path: Path) -> Path:
    """A data folder with tiny svt/ and ic13/ sets of words rendered here (ic13 with its
    857 subset), laid out as ../shared/data is."""
    for name, words in {"svt": ["HOTEL", "MARKET"], "ic13": ["ship", "First", "BMC"]}.items():
        folder = tmp_path / name
        (folder / "images").mkdir(parents=True)
        for i, word in enumerate(words):
            render_word(word).save(folder / "images" / f"{i}.png")
        (folder / "labels.tsv").write_text("".join(f"images/{i}.png\t{w}\n" for i, w in enumerate(words)))
    (tmp_path / "ic13" / "labels_857.tsv").write_text("images/1.png\tFirst\nimages/2.png\tBMC\n")
    return tmp_path
photo_options = _script_fixture("photo_options")
finetune_forgetting = _script_fixture("finetune_forgetting")
