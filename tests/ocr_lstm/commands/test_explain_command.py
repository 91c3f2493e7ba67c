"""``ocr-lstm explain IMAGE --output explain.png``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

from ocr_lstm.cli import main


def test_explain_writes_the_picture_and_prints_the_reading(
    tiny_model_path: Path, word_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "explain.png"
    code = main(
        ["explain", str(word_png), "--output", str(output), "--model", str(tiny_model_path), "--threads", "1"]
    )
    assert code == 0
    assert output.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(output) as image:
        assert image.size[0] > 300 and image.size[1] > 300
    printed = capsys.readouterr().out.strip()
    assert printed.endswith(f"-> {output}")
    confidence = float(printed.split("\t")[1])
    assert 0.0 <= confidence <= 1.0


def test_explain_reports_a_missing_image_without_a_traceback(
    tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "explain.png"
    missing = str(tmp_path / "missing.png")
    code = main(["explain", missing, "--output", str(output), "--model", str(tiny_model_path)])
    assert code == 1
    assert not output.exists()
    assert capsys.readouterr().err.startswith("error:")


def test_explain_without_the_viz_extra_says_how_to_install_it_in_one_line(
    tiny_model_path: Path, word_png: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    output = tmp_path / "explain.png"
    assert main(["explain", str(word_png), "--output", str(output), "--model", str(tiny_model_path)]) == 1
    assert not output.exists()
    assert capsys.readouterr().err == "error: matplotlib is not installed: pip install 'ocr-lstm[viz]'\n"


def test_explain_on_a_folder_points_to_the_batch_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument IMAGE: {tmp_path} is a folder" in err and f"ocr-lstm batch {tmp_path} --output" in err
    assert err.count("\n") == 1


def test_explain_help_offers_the_reading_options_but_not_the_batching_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    for option in ("--model", "--device", "--threads", "--decoding", "--allowlist", "--no-word-prior", "--backend"):
        assert option in shown
    assert "--batch-size" not in shown and "--batch-columns" not in shown
