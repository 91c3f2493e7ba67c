"""benchmarks/whole_process.py: the whole job as its own process, timed, with its peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from word_images import render_word

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "whole_process.py"


def test_the_script_times_ocr_lstm_batch_as_a_process(tmp_path: Path, tiny_model_path: Path) -> None:
    folder = tmp_path / "crops"
    folder.mkdir()
    for i, word in enumerate(["one", "two", "three"]):
        render_word(word).save(folder / f"{i}.png")
    report = tmp_path / "report.json"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(folder), "--systems", "ocr-lstm", "--repeats", "1", "--threads", "1",
         "--model", str(tiny_model_path), "--json", str(report)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    [row] = json.loads(report.read_text())["crops"]
    assert row["system"] == "ocr-lstm" and row["images"] == 3  # every crop's row was written
    assert row["first_reading_s"] > 0 and row["best_s"] == pytest.approx(min(row["all_s"]), abs=0.01)
    assert 20 < row["peak_rss_mb"] < 4000  # a real process's peak, read with wait4
    assert "| ocr-lstm | 3 |" in completed.stdout
