"""benchmarks/accuracy.py scores whatever svt/ic13 folders it is given and explains its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr_lstm.recognition.recognizer import Recognition


def test_every_present_set_and_subset_gets_a_row(accuracy, rendered_sets: Path, tiny_model_path: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    rows_file = tmp_path / "rows.json"
    assert accuracy.main(["--data", str(rendered_sets), "--model", str(tiny_model_path), "--threads", "1",
                          "--failures", "2", "--json", str(rows_file)]) == 0
    rows = json.loads(rows_file.read_text())
    assert [(r["set"], r["samples"]) for r in rows] == [("svt", 2), ("ic13", 3), ("ic13 (857)", 2)]
    out = capsys.readouterr().out
    assert "right by confidence band" in out and "svt: >= 0.9" in out


def test_confidence_bands_and_failures_count_under_the_standard_protocol(accuracy) -> None:
    read = accuracy.DatasetReadings(
        labels=["HOTEL", "DIEGO", "ship", "x"],
        readings=[Recognition("hotel", 0.95), Recognition("Dlego", 0.55), Recognition("shp", 0.2), None],
        seconds=1.0,
    )
    assert accuracy.confidence_bands(read) == [(">= 0.9", 1, 100.0), ("0.5 - 0.9", 1, 0.0), ("< 0.5", 1, 0.0)]
    assert sorted(accuracy.failures(read, 5)) == ["DIEGO -> Dlego (0.55)", "ship -> shp (0.20)"]


def test_missing_data_is_skipped_not_failed(accuracy, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert accuracy.main(["--data", str(tmp_path / "absent")]) == 0
    assert capsys.readouterr().out.startswith("skipped:")
