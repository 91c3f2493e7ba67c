"""The ``ocr-lstm`` entry point: sub-commands, --model everywhere, errors without tracebacks."""

from __future__ import annotations

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
