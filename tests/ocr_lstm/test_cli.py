"""The ``ocr-lstm`` entry point: sub-commands, --model everywhere, errors without tracebacks."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from word_images import render_word

from ocr_lstm.cli import all_commands, build_parser, main
from ocr_lstm.commands.common import recognizer_from_args
from ocr_lstm.data.datasets import LmdbDataset


def test_every_command_is_listed_in_help(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in all_commands():
        assert name in out


def test_serve_and_train_come_from_their_own_packages_entry_points() -> None:
    """ocr_lstm imports neither service nor training: they register their commands themselves."""
    from service.command import COMMAND as serve
    from training.command import COMMAND as train

    commands = all_commands()
    assert commands["serve"] is serve and commands["train"] is train


@pytest.mark.parametrize("command", ["recognize", "batch", "eval", "serve", "explain"])
def test_commands_that_load_a_model_take_model(command: str) -> None:
    required = {"recognize": ["x.png"], "batch": ["dir", "--output", "o.jsonl"], "eval": ["set"], "explain": ["x.png"]}
    args = build_parser().parse_args([command, *required.get(command, []), "--model", "mine"])
    assert args.model == "mine"


@pytest.mark.parametrize("option", ["--chunk", "--batch-size", "--threads"])
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_counts_must_be_positive_whole_numbers(option: str, value: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", "dir", "--output", "o.jsonl", option, value])
    assert exit_info.value.code == 2
    assert option in capsys.readouterr().err


def test_a_missing_dependency_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    assert main(["export", "--output", "never.onnx"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: onnx is not installed") and "pip install onnx" in err
    assert err.count("\n") == 1


def test_a_missing_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_lmdb_command_converts_a_labelled_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    render_word("one").save(folder / "a.png")
    (folder / "labels.tsv").write_text("a.png\tone\n")
    assert main(["lmdb", str(folder), str(tmp_path / "db")]) == 0
    assert "1 samples" in capsys.readouterr().out
    assert LmdbDataset(tmp_path / "db")[0][1] == "one"


def test_the_word_prior_can_be_turned_off_on_the_command_line(tiny_model_path: Path) -> None:
    on = build_parser().parse_args(["eval", "set", "--model", str(tiny_model_path)])
    off = build_parser().parse_args(["eval", "set", "--model", str(tiny_model_path), "--no-word-prior"])
    assert recognizer_from_args(on).decoder.word_prior is not None
    assert recognizer_from_args(off).decoder.word_prior is None


def test_other_commands_work_without_the_training_package(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for name in [name for name in sys.modules if name == "training" or name.startswith("training.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "training", None)
    assert build_parser().parse_args(["recognize", "x.png"]).command == "recognize"
    assert main(["train"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ocr-lstm train needs the training package") and err.count("\n") == 1


def test_train_takes_the_options_of_the_training_package() -> None:
    args = build_parser().parse_args(["train", "--steps", "5", "--set", "lr=0.1"])
    assert args.steps == 5 and args.set == ["lr=0.1"]


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Each sub-command's parser, its arguments added (they are added when first used)."""
    subcommands = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    parsers: dict[str, argparse.ArgumentParser] = subcommands.choices  # type: ignore[assignment]
    for parser in parsers.values():
        parser.format_help()
    return parsers


@pytest.mark.parametrize(("argv", "message"), [
    (["batch", "dir", "--output", "o.jsonl", "--batch-size", "x"],
     "ocr-lstm batch: error: argument --batch-size: 'x' is not a whole number (see ocr-lstm batch --help)"),
    (["serve", "--port", "70000"],
     "ocr-lstm serve: error: argument --port: a port is from 0 to 65535, got 70000 (see ocr-lstm serve --help)"),
    (["train", "--steps", "many"],
     "ocr-lstm train: error: argument --steps: invalid int value: 'many' (see ocr-lstm train --help)"),
    (["recognize"],
     "ocr-lstm recognize: error: the following arguments are required: IMAGE (see ocr-lstm recognize --help)"),
    (["eval", "set", "--decoding", "best"],
     "ocr-lstm eval: error: argument --decoding: invalid choice: 'best' (choose from 'greedy', 'beam') "
     "(see ocr-lstm eval --help)"),
])
def test_a_usage_error_is_one_line_that_names_the_option_and_the_help(
    argv: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == message + "\n"


def test_an_unknown_command_is_one_line_too(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["recognise", "x.png"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("ocr-lstm: error: argument COMMAND: invalid choice: 'recognise' (choose from 'ocr', ")
    assert err.endswith(" (see ocr-lstm --help)\n") and err.count("\n") == 1


def test_every_option_with_a_default_says_it_in_its_help() -> None:
    for name, parser in command_parsers().items():
        for action in parser._actions:
            has_default = action.default is not False and action.default not in (None, [], argparse.SUPPRESS)
            if action.option_strings and has_default:
                assert "default" in (action.help or ""), f"ocr-lstm {name} {action.option_strings[0]}"


IMPORT_SPY = """
import atexit, json, runpy, sys, traceback
heavy, first = ("torch", "onnxruntime", "cv2"), {}

class Spy:
    \"\"\"Notes, for each heavy module, the project's lines that first import it.\"\"\"
    def find_spec(self, name, path=None, target=None):
        if name in heavy and name not in first:
            first[name] = [f"{frame.filename.removeprefix(ROOT)}:{frame.lineno}" for frame in traceback.extract_stack()
                           if frame.filename.startswith(ROOT) and "/.venv/" not in frame.filename]

sys.meta_path.insert(0, Spy())
loaded = lambda: {name: lines for name, lines in first.items() if name in sys.modules}
atexit.register(lambda: print(json.dumps(loaded()), file=sys.stderr))
runpy.run_module("ocr_lstm.cli", run_name="__main__")
"""


@pytest.mark.parametrize("argv", [["--help"], ["batch", "--batch-size", "x", "DIR"],
                                  ["ocr", "--min-confidence", "x", "photo.png"]])
def test_help_and_usage_errors_answer_before_torch_onnxruntime_or_cv2_load(argv: list[str]) -> None:
    """Each costs a second or more to import; a command loads them when it runs, not to parse its arguments.
    A failure shows, for each one loaded, the project's lines that imported it."""
    root = Path(__file__).resolve().parents[2]
    script = f"ROOT = {str(root) + '/'!r}\n" + IMPORT_SPY
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=120,
                          cwd=root)
    assert done.returncode == (0 if argv == ["--help"] else 2), done.stderr
    assert json.loads(done.stderr.splitlines()[-1]) == {}
