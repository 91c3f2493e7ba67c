"""The error table on hand-made photos: each class of ground-truth word and of false detection."""

from __future__ import annotations

from ocr_lstm.elements import box_polygon
from ocr_lstm.evaluation.scene_errors import error_table, photo_errors
from ocr_lstm.evaluation.scenes import GroundTruthWord


def truth(left: float, right: float, text: str) -> GroundTruthWord:
    return GroundTruthWord(box_polygon(left, 0, right, 20), text, text == "###")


def test_each_ground_truth_word_falls_in_one_class() -> None:
    words = [truth(0, 100, "OPEN"), truth(150, 250, "DAILY"), truth(300, 400, "FROM"), truth(450, 550, "NINE"),
             truth(600, 700, "TILL"), truth(800, 900, "###")]
    detections = [
        (box_polygon(0, 0, 100, 20), "open"),      # correct
        (box_polygon(150, 0, 250, 20), "DA1LY"),   # misread
        (box_polygon(300, 0, 345, 20), "FR"),      # split: two pieces inside FROM
        (box_polygon(355, 0, 400, 20), "OM"),
        (box_polygon(450, 0, 700, 20), "NINETILL"),  # NINE and TILL merged: covers both, IoU < 0.5 with each
        (box_polygon(810, 0, 890, 20), "xx"),     # inside a don't-care region: dropped, counted nowhere
        (box_polygon(1000, 0, 1100, 20), "junk"),  # no word there
    ]
    counts = photo_errors(words, detections)
    assert counts["correct"] == 1 and counts["misread"] == 1 and counts["split"] == 1
    assert counts["merged or loose box"] == 2 and counts["missed"] == 0
    assert counts["false: part of a word"] == 3  # FR, OM and NINETILL
    assert counts["false: no word there"] == 1


def test_a_word_nothing_covers_is_missed_and_the_table_sums_photos() -> None:
    photo = ([truth(0, 100, "EXIT")], [])
    table = error_table([photo, photo])
    assert table["missed"] == 2 and sum(table.values()) == 2
    assert list(table) == ["correct", "misread", "split", "merged or loose box", "missed",
                           "false: part of a word", "false: no word there"]
