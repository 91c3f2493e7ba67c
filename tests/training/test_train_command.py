"""``ocr-lstm train``: the training package's command, as the ``ocr-lstm`` parser shows it."""

from __future__ import annotations

import pytest

from ocr_lstm.cli import main


@pytest.mark.parametrize("entry", ["ocr-lstm train", "torchrun -m training.train"])
def test_help_shows_each_default_and_what_init_changes(entry: str, capsys: pytest.CaptureFixture[str]) -> None:
    from training.train import main as train_main

    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"]) if entry == "ocr-lstm train" else train_main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--steps STEPS total optimiser steps (default: 20000; with --init: 2000)" in text
    assert "--lr LR (default: 0.001; with --init: 0.0003)" in text
    assert "--batch-size BATCH_SIZE (default: 64)" in text
    assert "--output OUTPUT run folder: checkpoints, logs, curves; an existing run there is resumed " \
        "(default: runs/default; with --init: runs/finetune)" in text
    assert "(default: 200000; with --init: the run's synthetic draws (steps x batch size x synthetic share), " \
        "2000 to 200000)" in text
    assert "--device DEVICE auto, cpu, cuda or cuda:N (default: auto)" in text


@pytest.mark.parametrize("argv", [["--steps", "x"], ["--no-such-option"]], ids=["bad value", "unknown option"])
def test_the_torchrun_entry_point_answers_a_usage_error_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``torchrun -m training.train`` parses as ``ocr-lstm train`` does."""
    from training.train import main as train_main

    with pytest.raises(SystemExit) as exit_info:
        train_main(argv)
    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("ocr-lstm train: error: ") and line.endswith("(see ocr-lstm train --help)")


def test_a_finished_run_says_where_its_model_is_and_how_to_use_it(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    import training.trainer
    from training.train import build_parser, train_from_args

    monkeypatch.setattr(training.trainer, "run", lambda config: {"steps": 3, "output": config.output})
    args = build_parser().parse_args(["--output", str(tmp_path / "plates"), "--steps", "3"])
    assert train_from_args(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["steps"] == 3  # stdout stays the summary alone
    best = tmp_path / "plates" / "best"
    assert f"--model {best}" in err and f"OCR_LSTM_MODEL={best}" in err and f"Recognizer('{best}')" in err
