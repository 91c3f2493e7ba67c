"""The library installs and reads without the extras: FastAPI and the rest of the service
(``[service]``), matplotlib (``[viz]``) and what only training needs (``[train]``); ``[test]``, which
``make test`` and ``make serve`` install, brings them all."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRA_PACKAGES = {
    "service": ["fastapi", "uvicorn", "python-multipart", "pydantic", "pydantic-settings", "prometheus-client"],
    "viz": ["matplotlib"],
}
# Import names of the extras' packages, and the packages the library must not import.
BLOCKED = ["fastapi", "starlette", "uvicorn", "multipart", "pydantic", "pydantic_settings", "prometheus_client",
           "matplotlib", "service", "training"]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_the_extras_packages_are_not_dependencies_of_the_library() -> None:
    core = names(project()["dependencies"])
    extras = project()["optional-dependencies"]
    for extra, packages in EXTRA_PACKAGES.items():
        assert not core & set(packages), f"{extra} packages among the library's dependencies"
        assert set(packages) <= names(extras[extra])
    assert "ocr-lstm[viz]" in extras["train"] and "ocr-lstm[viz]" in extras["service"]


def test_the_test_extra_brings_every_other() -> None:
    assert "ocr-lstm[service,viz,train]" in project()["optional-dependencies"]["test"]


def test_the_recognizer_reads_and_explains_without_the_extras(tiny_model_path: Path, word_png: Path) -> None:
    script = f"""
import importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None

sys.meta_path.insert(0, Missing())
from ocr_lstm.cli import main
from ocr_lstm.recognition.explain import explain_image
from ocr_lstm.recognition.recognizer import Recognizer

recognizer = Recognizer({str(tiny_model_path)!r}, threads=1)
assert recognizer.recognize({str(word_png)!r})[0].text
assert explain_image(recognizer, {str(word_png)!r}, render=False).to_dict()["columns"]
assert main(["recognize", {str(word_png)!r}, "--model", {str(tiny_model_path)!r}, "--threads", "1"]) == 0
assert main(["explain", {str(word_png)!r}, "--model", {str(tiny_model_path)!r}, "--threads", "1"]) == 1
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "error: matplotlib is not installed: pip install 'ocr-lstm[viz]'"
