"""benchmarks/whole_process.py: the whole job as its own process, timed, with its peak memory."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

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


def test_a_peer_photo_worker_is_started_in_photo_mode_on_the_listed_images(
    whole_process: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver's command for RapidOCR's photo pipeline reaches the worker as photo mode, with the
    listing the driver wrote."""
    listing = tmp_path / "images.txt"
    listing.write_text(f"{tmp_path / 'a.png'}\n{tmp_path / 'b.jpg'}\n", encoding="utf-8")
    args = argparse.Namespace(threads=2, peer_batch=6, model="default")
    argv = whole_process.command("rapidocr", tmp_path, listing, tmp_path / "rows.jsonl", args, photos=True)
    ran: list[tuple[str, list[Path]]] = []
    monkeypatch.setattr(whole_process, "rapidocr_photos",
                        lambda listing, *_: ran.append(("photos", whole_process.listed(listing))))
    monkeypatch.setattr(whole_process, "peer_crops", lambda _system, listing, *_: ran.append(("crops", [])))
    assert whole_process.main(argv[2:]) == 0  # what follows the interpreter and the script's path
    assert ran == [("photos", [tmp_path / "a.png", tmp_path / "b.jpg"])]
