"""benchmarks/peers.py runs ocr-lstm on any labelled folder and skips peers that are absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture()
def labelled_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    lines = []
    for i, (width, text) in enumerate([(60, "cat"), (140, "window"), (30, "a")]):
        pixels = rng.integers(0, 256, (32, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / "images" / f"{i}.png")
        lines.append(f"images/{i}.png\t{text}")
    (tmp_path / "labels.tsv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_table_has_ocr_lstm_row_flops_and_peak_share(peers, labelled_folder: Path, tiny_model_path: Path,
                                                      tmp_path: Path, capsys) -> None:
    rows_file = tmp_path / "rows.json"
    code = peers.main([str(labelled_folder), "--systems", "ocr-lstm", "--model", str(tiny_model_path),
                       "--threads", "1", "--json", str(rows_file)])
    assert code == 0
    out = capsys.readouterr().out
    assert "MFLOPs per crop" in out and "of a peak of" in out
    (row,) = json.loads(rows_file.read_text())
    assert row["system"] == "ocr-lstm" and row["samples"] == 3
    assert row["crops_per_s"] > 0 and row["p90_ms"] >= row["p50_ms"] > 0
    assert row["batched_agrees"] == 1.0  # batching never changes a reading
    # ...which shows only because the three crops read differently: a batch that mixed them
    # up, or let padding leak into them, would disagree with the one-crop readings.
    from ocr_lstm.recognition.recognizer import Recognizer

    crops = [Image.open(labelled_folder / "images" / f"{i}.png") for i in range(3)]
    assert len({r.text for r in Recognizer(tiny_model_path, threads=1).recognize(crops)}) == 3
    assert row["mflops_per_crop"] > 0


def test_missing_peer_is_skipped_with_a_note(peers, labelled_folder: Path, tiny_model_path: Path,
                                             monkeypatch, capsys) -> None:
    monkeypatch.setattr(peers, "_installed", lambda system: "not installed (test)")
    assert peers.main([str(labelled_folder), "--systems", "rapidocr", "--model", str(tiny_model_path)]) == 0
    assert "rapidocr: skipped, not installed (test)" in capsys.readouterr().out


def test_flops_grow_with_crop_width(peers, tiny_model_path: Path) -> None:
    model = str(tiny_model_path)
    assert peers.flops_per_crop(model, [200]) > 1.9 * peers.flops_per_crop(model, [100])


def test_ocr_lstm_variants_run_with_their_settings(peers, labelled_folder: Path, tiny_model_path: Path,
                                                   tmp_path: Path) -> None:
    rows_file = tmp_path / "rows.json"
    assert peers.main([str(labelled_folder), "--systems", "ocr-lstm,ocr-lstm-greedy,ocr-lstm-torch",
                       "--model", str(tiny_model_path), "--threads", "1", "--json", str(rows_file)]) == 0
    rows = {row["system"]: row for row in json.loads(rows_file.read_text())}
    settings = {name: (row["backend"], row["word_prior"]) for name, row in rows.items()}
    assert settings == {
        "ocr-lstm": ("onnx", True),
        "ocr-lstm-greedy": ("onnx", False),
        "ocr-lstm-torch": ("torch", True),
    }
