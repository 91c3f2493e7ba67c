"""Reading photo sets and scoring them, with injected pipeline parts whose output is known."""

from __future__ import annotations

from pathlib import Path

import cv2
from photo_parts import box_line, fake_ocr, painted

from ocr_lstm.evaluation.photos import evaluate_photos
from ocr_lstm.evaluation.scenes import GroundTruthWord, ScenePhoto, is_scene_folder, load_photo_set

BOX = (100, 50, 500, 90)


def photo(tmp_path: Path, ground_truth: list[GroundTruthWord], lexicon: tuple[str, ...] | None) -> ScenePhoto:
    path = tmp_path / "sign.png"
    cv2.imwrite(str(path), painted(640, 200, BOX, "right"))
    return ScenePhoto(path, tuple(ground_truth), lexicon)


def word(text: str, left: float, right: float) -> GroundTruthWord:
    return GroundTruthWord(((left, 50), (right, 50), (right, 90), (left, 90)), text, False)


def test_words_read_where_the_truth_lies_score_end_to_end(tmp_path: Path) -> None:
    # The fake reader puts "ab" at a fifth and three tenths of the line, "cd" at seven and nine tenths.
    truth = [word("AB", 100, 260), word("CD", 340, 500)]
    report = evaluate_photos(fake_ocr([box_line(BOX)]), [photo(tmp_path, truth, None)],
                             progress=False)
    assert report.photos == 1 and report.seconds > 0
    assert report.scores.detection.recall == 1.0
    assert report.scores.end_to_end.recall == 1.0
    assert report.with_lexicon is None


def test_a_lexicon_is_scored_on_the_same_reading(tmp_path: Path) -> None:
    truth = [word("AB", 100, 260), word("CAT", 340, 500)]
    report = evaluate_photos(fake_ocr([box_line(BOX)]),
                             [photo(tmp_path, truth, ("ab", "cat"))], progress=False)
    assert report.scores.end_to_end.recall == 0.5  # "cd" is not "CAT"
    assert report.with_lexicon is not None and report.with_lexicon.end_to_end.recall == 1.0


def test_both_photo_layouts_are_recognised(tmp_path: Path) -> None:
    nested = tmp_path / "nested"
    (nested / "images").mkdir(parents=True)
    (nested / "gt").mkdir()
    cv2.imwrite(str(nested / "images" / "a.png"), painted(64, 32, (0, 0, 10, 10), "right"))
    (nested / "gt" / "gt_a.txt").write_text("0,0,10,0,10,10,0,10,HI\n")
    flat = tmp_path / "flat"
    flat.mkdir()
    cv2.imwrite(str(flat / "a.png"), painted(64, 32, (0, 0, 10, 10), "right"))
    (flat / "gt_a.txt").write_text("0,0,10,0,10,10,0,10,HI\n")
    crops = tmp_path / "crops"
    crops.mkdir()
    (crops / "labels.tsv").write_text("")
    assert is_scene_folder(nested) and is_scene_folder(flat) and not is_scene_folder(crops)
    assert [p.ground_truth[0].text for p in load_photo_set(nested)] == ["HI"]
    assert [p.ground_truth[0].text for p in load_photo_set(flat)] == ["HI"]
