"""The README's snippets work as pasted: every Python block runs on its own, in a fresh process, in a
folder holding only the files the README's examples name (made here: a word image, a photo, the model
exported by the README's own command); every command the shell blocks name exists, with the options
they give it, and so do the Makefile targets and scripts they run."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from word_images import render_photo, render_word

from ocr_lstm.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
# Each line of the shell blocks as words, its comment cut.
SHELL = [shlex.split(re.split(r"(?:^|\s)#", line, maxsplit=1)[0])
         for block in re.findall(r"^```bash\n(.*?)^```", README, flags=re.S | re.M) for line in block.splitlines()]


def test_the_readme_has_the_snippets_this_checks() -> None:
    assert len(PYTHON_BLOCKS) >= 3
    assert len(ocr_lstm_calls()) >= 10


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the examples read: ``word.png``, ``street.jpg`` and, when a snippet loads it, ``model.onnx`` as
    ``ocr-lstm export --output model.onnx`` writes it."""
    folder = tmp_path_factory.mktemp("readme")
    render_word("Available").save(folder / "word.png")
    photo, _ = render_photo([("OPEN 24 HOURS", (80, 90), 56), ("NO PARKING", (80, 300), 48)], size=(900, 500))
    Image.fromarray(photo).save(folder / "street.jpg", quality=92)
    if any("model.onnx" in block for block in PYTHON_BLOCKS):
        assert "ocr-lstm export --output model.onnx" in README
        subprocess.run([sys.executable, "-m", "ocr_lstm.cli", "export", "--output", "model.onnx"], cwd=folder,
                       check=True, capture_output=True, timeout=300)
    return folder


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"python-{i + 1}" for i in range(len(PYTHON_BLOCKS))])
def test_each_python_snippet_runs_as_pasted_on_its_own(block: str, workdir: Path) -> None:
    done = subprocess.run([sys.executable, "-c", block], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the snippet\n{block}\nfailed:\n{done.stderr[-3000:]}"
    if "print(" in block:
        assert done.stdout.strip()


def ocr_lstm_calls() -> list[tuple[str, list[str]]]:
    """Each ``ocr-lstm COMMAND`` of the shell blocks with the options it passes (``--x=y`` as ``--x``)."""
    calls = []
    for words in SHELL:
        for start, word in enumerate(words[:-1]):
            if word == "ocr-lstm" or word.endswith("/ocr-lstm"):
                rest = words[start + 2 :]
                ends = [i for i, w in enumerate(rest) if w in ("|", "&&", ";", "||")]
                options = [w.split("=", 1)[0] for w in rest[: ends[0] if ends else None] if w.startswith("-")]
                calls.append((words[start + 1], options))
    return calls


def following(word: str) -> list[str]:
    """The words that follow ``word`` in the shell blocks."""
    return [words[i + 1] for words in SHELL for i, w in enumerate(words[:-1]) if w == word]


def help_text(command: str) -> str:
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0, f"ocr-lstm {command} --help failed"
    return shown.getvalue()


@pytest.mark.parametrize("command, options", ocr_lstm_calls(), ids=lambda value: str(value))
def test_each_command_the_readme_runs_exists_with_the_options_it_gives(command: str, options: list[str]) -> None:
    shown = help_text(command)
    for option in options:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", shown), (
            f"`ocr-lstm {command}` is given {option}, which its --help does not offer")


def test_each_make_target_and_script_the_readme_runs_exists() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    assert following("make") and set(following("make")) <= targets
    scripts = [w for words in SHELL for w in words if w.endswith(".py") and not w.startswith("-")]
    assert scripts and all((ROOT / script).is_file() for script in scripts)
    modules = following("-m")
    assert modules and all((ROOT / (module.replace(".", "/") + ".py")).is_file() for module in modules)
