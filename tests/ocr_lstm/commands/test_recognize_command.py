"""``ocr-lstm recognize IMAGE...``: text and confidence per image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr_lstm.charset import Charset
from ocr_lstm.cli import main


def test_recognize_prints_path_text_and_confidence(
    word_png: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["recognize", str(word_png), str(word_png), "--model", str(tiny_model_path), "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    path, text, confidence = lines[0].split("\t")
    assert path == str(word_png)
    assert set(text) <= set(Charset().symbols)
    assert 0.0 <= float(confidence) <= 1.0


def test_recognize_json_has_per_character_confidences(
    word_png: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["recognize", str(word_png), "--json", "--model", str(tiny_model_path), "--decoding", "beam"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["path"] == str(word_png)
    assert "".join(c["char"] for c in row["chars"]) == row["text"]
    assert 0.0 <= row["confidence"] <= 1.0


def test_an_unreadable_image_is_reported_and_the_others_still_read(
    word_png: Path, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"garbage")
    assert main(["recognize", str(broken), str(word_png), "--model", str(tiny_model_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(str(word_png))
    assert captured.err.startswith(f"error: {broken}:")
    assert "Traceback" not in captured.err


def test_a_missing_model_exits_with_one_error_line(
    word_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["recognize", str(word_png), "--model", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no checkpoint at")


def test_a_folder_is_refused_with_the_batch_command_that_reads_it(
    word_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["recognize", str(word_png), str(tmp_path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"ocr-lstm recognize: error: argument IMAGE: {tmp_path} is a folder: to read every image under it, run "
        f"ocr-lstm batch {tmp_path} --output results.jsonl (see ocr-lstm recognize --help)\n"
    )
