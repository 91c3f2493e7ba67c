"""benchmarks/scenes.py: ocr-lstm and RapidOCR on whole photos, scored the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from word_images import rendered_scene_folder


def test_a_word_is_snapped_to_its_closest_lexicon_entry(scenes) -> None:
    assert scenes.snap("PARKNG", ("PARKING", "PARK", "HOTEL")) == "PARKING"
    assert scenes.snap("hotel", ("PARKING", "HOTEL")) == "HOTEL"


def test_missing_data_is_skipped_not_failed(scenes, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert scenes.main(["--data", str(tmp_path / "absent")]) == 0
    assert capsys.readouterr().out.startswith("skipped:")


def test_ocr_lstm_is_scored_on_a_rendered_photo_set(scenes, tmp_path: Path) -> None:
    folder = rendered_scene_folder(tmp_path / "scenes", [("NO PARKING", (100, 100), 48)])
    row = scenes.run_one("ocr-lstm", folder, None, 1)
    assert row["photos"] == 1 and row["ground_truth"] == 2
    (_, detection_recall, _), (_, e2e_recall, _) = row["detection"], row["end_to_end"]
    assert 0.0 <= e2e_recall <= detection_recall <= 100.0
    assert row["s_per_photo"] > 0 and row["lexicon_e2e_recall"] is None
    ground_truth_classes = ("correct", "misread", "split", "merged or loose box", "missed")
    assert sum(row["errors"][name] for name in ground_truth_classes) == 2


def test_rapidocr_word_results_of_every_shape_give_boxed_words(scenes) -> None:
    box = [[0, 0], [10, 0], [10, 5], [0, 5]]
    results = ((("OPEN", 0.9, box), ("24", 0.8, box)), ("HOURS", 0.7, box), (), ((),), (("x", 0.5, None),))
    assert scenes.rapidocr_words(results) == [(box, "OPEN"), (box, "24"), (box, "HOURS")]
    assert scenes.rapidocr_words(None) == []
