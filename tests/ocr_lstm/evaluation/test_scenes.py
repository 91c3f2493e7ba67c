"""The ICDAR 2015 Challenge 4 scorer on hand-made photos whose scores are known."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr_lstm.elements import Polygon, box_polygon
from ocr_lstm.evaluation.scenes import (
    Counts,
    GroundTruthWord,
    Pair,
    ScenePhoto,
    SceneScores,
    counts_in_word_spotting,
    end_to_end_match,
    load_ground_truth,
    load_lexicon,
    load_scene_folder,
    pair_scene_photos,
    score_photo,
    score_photos,
    word_spotting_form,
)

SVT_SCENES = Path(__file__).resolve().parents[3] / "../shared/data/svt_scenes"
PARK = box_polygon(0, 0, 100, 20)
FAR = box_polygon(200, 0, 300, 20)


def truth(polygon: Polygon, text: str) -> GroundTruthWord:
    return GroundTruthWord(polygon, text, text == "###")


def test_an_exact_box_with_the_right_text_scores_one_in_every_protocol() -> None:
    score = score_photo([truth(PARK, "PARK")], [(PARK, "park")])
    for protocol in (score.detection, score.end_to_end, score.word_spotting):
        assert protocol.counts == Counts(ground_truth=1, detections=1, matches=1)
        assert (protocol.precision, protocol.recall, protocol.f_score) == (1.0, 1.0, 1.0)
        assert protocol.pairs == (Pair(0, 0, True),)


def test_a_pair_needs_an_iou_strictly_above_one_half() -> None:
    def detection_matches(width: float) -> int:  # IoU with PARK is width / 100
        return score_photo([truth(PARK, "PARK")], [(box_polygon(0, 0, width, 20), "park")]).detection.counts.matches

    assert detection_matches(50.1) == 1
    assert detection_matches(50) == 0
    assert detection_matches(49.9) == 0


def test_two_detections_on_one_word_give_one_match_and_one_false_positive() -> None:
    score = score_photo([truth(PARK, "PARK")], [(PARK, "park"), (PARK, "park")]).detection
    assert score.counts == Counts(ground_truth=1, detections=2, matches=1)
    assert (score.precision, score.recall) == (0.5, 1.0)
    assert score.pairs == (Pair(0, 0, True),)


def test_a_detection_over_two_words_goes_to_the_first_word_in_order() -> None:
    shorter = box_polygon(0, 0, 90, 20)  # IoU 0.9 with the detection; PARK has 1.0
    score = score_photo([truth(shorter, "PAR"), truth(PARK, "PARK")], [(PARK, "park")]).detection
    assert score.pairs == (Pair(0, 0, True),)
    assert score.counts == Counts(ground_truth=2, detections=1, matches=1)


def test_each_word_takes_the_first_detection_above_the_threshold_not_the_best() -> None:
    score = score_photo([truth(PARK, "PARK")], [(box_polygon(0, 0, 60, 20), "park"), (PARK, "park")]).detection
    assert score.pairs == (Pair(0, 0, True),)


def test_a_misread_detection_keeps_its_word_so_a_later_right_reading_is_a_false_positive() -> None:
    score = score_photo([truth(PARK, "PARK")], [(box_polygon(0, 0, 90, 20), "pork"), (PARK, "park")])
    assert score.detection.counts == Counts(ground_truth=1, detections=2, matches=1)
    assert score.end_to_end.pairs == (Pair(0, 0, False),)
    assert score.end_to_end.counts == Counts(ground_truth=1, detections=2, matches=0)


def test_end_to_end_ignores_case() -> None:
    assert end_to_end_match("Park", "pARK")
    assert score_photo([truth(PARK, "Park")], [(PARK, "PARK")]).end_to_end.counts.matches == 1


def test_a_special_character_of_the_truth_may_be_missing_at_its_start_or_end_only() -> None:
    assert end_to_end_match("PARK.", "park")
    assert end_to_end_match("(PARK", "park")
    assert end_to_end_match('"PARK"', "park")
    assert end_to_end_match("Hello!", "hello")
    assert end_to_end_match("PARK.", "park.")
    assert not end_to_end_match("PA.RK", "park")
    assert not end_to_end_match("PARK..", "park")
    assert not end_to_end_match("PARK-", "park")  # '-' is not a special character


def test_the_reading_is_not_forgiven_its_own_punctuation() -> None:
    assert not end_to_end_match("PARK", "park.")


def test_end_to_end_counts_every_word_but_dont_care_whatever_its_characters() -> None:
    score = score_photo([truth(PARK, "2015"), truth(FAR, "ON")], [(PARK, "2015")]).end_to_end
    assert score.counts == Counts(ground_truth=2, detections=1, matches=1)


def test_a_detection_mostly_inside_a_dont_care_region_is_dropped_not_a_false_positive() -> None:
    inside = box_polygon(10, 0, 90, 20)
    score = score_photo([truth(PARK, "###"), truth(FAR, "CAFE")], [(inside, "x"), (FAR, "cafe")])
    for protocol in (score.detection, score.end_to_end):
        assert protocol.dropped == (0,)
        assert protocol.counts == Counts(ground_truth=1, detections=1, matches=1)
        assert (protocol.precision, protocol.recall) == (1.0, 1.0)


def test_a_detection_half_inside_a_dont_care_region_still_counts() -> None:
    half = box_polygon(50, 0, 150, 20)
    score = score_photo([truth(PARK, "###")], [(half, "x")]).detection
    assert score.dropped == ()
    assert score.counts == Counts(ground_truth=0, detections=1, matches=0)
    assert (score.precision, score.recall) == (0.0, 1.0)


def test_a_dont_care_word_is_not_counted_in_recall_nor_matched() -> None:
    empty = score_photo([truth(PARK, "###")], []).detection
    assert empty.counts == Counts()
    assert (empty.precision, empty.recall, empty.f_score) == (1.0, 1.0, 1.0)
    missed = score_photo([truth(PARK, "###"), truth(FAR, "CAFE")], []).detection
    assert missed.counts == Counts(ground_truth=1, detections=0, matches=0)
    assert (missed.precision, missed.recall) == (0.0, 0.0)


def test_word_spotting_ignores_a_two_letter_word_and_drops_detections_on_it() -> None:
    score = score_photo([truth(PARK, "ON"), truth(FAR, "CAFE")], [(PARK, "on"), (FAR, "cafe")])
    assert score.end_to_end.counts == Counts(ground_truth=2, detections=2, matches=2)
    assert score.word_spotting.counts == Counts(ground_truth=1, detections=1, matches=1)
    assert score.word_spotting.dropped == (0,)


def test_word_spotting_keeps_words_of_three_or_more_letters_or_hyphens_only() -> None:
    assert counts_in_word_spotting("PARK") and counts_in_word_spotting("Café") and counts_in_word_spotting("e-mail")
    assert counts_in_word_spotting("JOE'S") and counts_in_word_spotting("(PARK).")
    assert not counts_in_word_spotting("ON")
    assert not counts_in_word_spotting("A's")
    assert not counts_in_word_spotting("2015") and not counts_in_word_spotting("B52")
    assert not counts_in_word_spotting("NEW YORK") and not counts_in_word_spotting("P.ARK")
    assert counts_in_word_spotting("ON", min_length=2)


def test_word_spotting_compares_the_reading_with_the_cleaned_truth_exactly() -> None:
    assert word_spotting_form("JOE'S") == "JOE"
    assert word_spotting_form("-(PARK)!-") == "PARK"
    assert word_spotting_form("-PARK-") == "PARK"
    score = score_photo(
        [truth(PARK, "JOE'S"), truth(FAR, "(PARK)!")], [(PARK, "joe's"), (FAR, "park")]
    ).word_spotting
    assert score.pairs == (Pair(0, 0, False), Pair(1, 1, True))


def test_a_photo_without_cared_words_has_recall_one_and_precision_by_its_detections() -> None:
    nothing = score_photo([], [])
    assert (nothing.detection.precision, nothing.detection.recall) == (1.0, 1.0)
    stray = score_photo([], [(PARK, "park")])
    assert (stray.detection.precision, stray.detection.recall, stray.detection.f_score) == (0.0, 1.0, 0.0)


def test_scene_scores_sum_the_counts_before_dividing() -> None:
    scores = score_photos(
        [
            ([truth(PARK, "PARK"), truth(FAR, "CAFE")], [(PARK, "park")]),
            ([], [(FAR, "cafe")]),
        ]
    )
    assert isinstance(scores, SceneScores) and len(scores.photos) == 2
    assert scores.detection == Counts(ground_truth=2, detections=2, matches=1)
    assert (scores.detection.precision, scores.detection.recall) == (0.5, 0.5)
    assert scores.end_to_end.f_score == pytest.approx(0.5)
    assert scores.word_spotting == Counts(ground_truth=2, detections=2, matches=1)


def test_no_photos_score_zero_overall() -> None:
    scores = score_photos([])
    assert scores.detection == Counts()
    assert (scores.detection.precision, scores.detection.recall, scores.detection.f_score) == (0.0, 0.0, 0.0)


def test_a_detection_may_have_any_number_of_points_from_three() -> None:
    octagon = ((0, 0), (50, 0), (100, 0), (100, 10), (100, 20), (50, 20), (0, 20), (0, 10))
    assert score_photo([truth(PARK, "PARK")], [(octagon, "park")]).end_to_end.counts.matches == 1
    with pytest.raises(ValueError, match="at least 3 points"):
        score_photo([truth(PARK, "PARK")], [(((0, 0), (1, 1)), "park")])


def test_a_self_intersecting_polygon_is_repaired_with_both_lobes_kept() -> None:
    bow_tie = ((0, 0), (100, 20), (100, 0), (0, 20))  # two triangles, half of PARK's area
    assert score_photo([truth(bow_tie, "BOW")], [(bow_tie, "bow")]).detection.counts.matches == 1
    for lobe in (((0, 0), (50, 10), (0, 20)), ((100, 0), (100, 20), (50, 10))):  # IoU 0.5 with both lobes
        assert score_photo([truth(bow_tie, "BOW")], [(lobe, "bow")]).detection.counts.matches == 0


def test_a_ground_truth_file_with_a_bom_commas_quotes_and_dont_care_loads(tmp_path: Path) -> None:
    path = tmp_path / "gt_img_1.txt"
    lines = [
        "377,117,463,117,465,130,378,130,Genaxis Theatre",
        "10,20,30,20,30,40,10,40,1,000,000",
        "0,0,9,0,9,9,0,9,###",
        "",
        '5.5,6,7,6,7,8,5.5,8,"say \\"hi\\""',
    ]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    words = load_ground_truth(path)
    assert words[0] == GroundTruthWord(((377, 117), (463, 117), (465, 130), (378, 130)), "Genaxis Theatre", False)
    assert [(word.text, word.dont_care) for word in words] == [
        ("Genaxis Theatre", False),
        ("1,000,000", False),
        ("###", True),
        ('say "hi"', False),
    ]
    assert words[3].polygon[0] == (5.5, 6.0)


def test_a_malformed_ground_truth_line_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "gt_img_2.txt"
    path.write_text("0,0,9,0,9,9,0,9,OK\n\n0,0,9,0,9,9,0,BAD\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"gt_img_2\.txt, line 3"):
        load_ground_truth(path)


def test_a_lexicon_is_one_word_a_line(tmp_path: Path) -> None:
    path = tmp_path / "00_01.txt"
    path.write_text("\ufeffHERITAGE\r\nFORUM \n\nANAHEIM\n", encoding="utf-8")
    assert load_lexicon(path) == ["HERITAGE", "FORUM", "ANAHEIM"]


def write_photo(image_dir: Path, gt_dir: Path, stem: str, gt_line: str) -> Path:
    image_dir.mkdir(parents=True, exist_ok=True)
    gt_dir.mkdir(parents=True, exist_ok=True)
    (image_dir / f"{stem}.jpg").write_bytes(b"")
    (gt_dir / f"gt_{stem}.txt").write_text(gt_line + "\n", encoding="utf-8")
    return image_dir / f"{stem}.jpg"


def test_a_folder_of_images_gt_and_lexicons_pairs_by_stem(tmp_path: Path) -> None:
    second = write_photo(tmp_path / "images", tmp_path / "gt", "b", "0,0,9,0,9,9,0,9,###")
    first = write_photo(tmp_path / "images", tmp_path / "gt", "a", "0,0,9,0,9,9,0,9,PARK")
    (tmp_path / "lexicons").mkdir()
    (tmp_path / "lexicons" / "a.txt").write_text("PARK\nCAFE\n", encoding="utf-8")
    (tmp_path / "images" / "notes.md").write_text("not a photo", encoding="utf-8")
    photos = load_scene_folder(tmp_path)
    assert photos == [
        ScenePhoto(first, (truth(box_polygon(0, 0, 9, 9), "PARK"),), ("PARK", "CAFE")),
        ScenePhoto(second, (truth(box_polygon(0, 0, 9, 9), "###"),), None),
    ]


def test_the_flat_icdar_layout_pairs_images_with_gt_files_beside_them(tmp_path: Path) -> None:
    images, gt = tmp_path / "ch4_test_images", tmp_path / "Challenge4_Test_Task4_GT"
    image = write_photo(images, gt, "img_1", "0,0,9,0,9,9,0,9,PARK")
    write_photo(tmp_path / "elsewhere", gt, "img_2", "0,0,9,0,9,9,0,9,CAFE")  # gt without an image here
    vocabularies = tmp_path / "ch4_test_vocabularies_per_image"
    vocabularies.mkdir()
    (vocabularies / "voc_img_1.txt").write_text("PARK\n", encoding="utf-8")
    assert pair_scene_photos(images, gt, vocabularies) == [
        ScenePhoto(image, (truth(box_polygon(0, 0, 9, 9), "PARK"),), ("PARK",))
    ]
    assert pair_scene_photos(images, gt)[0].lexicon is None


def test_an_image_without_ground_truth_is_an_error(tmp_path: Path) -> None:
    write_photo(tmp_path / "images", tmp_path / "gt", "a", "0,0,9,0,9,9,0,9,PARK")
    (tmp_path / "images" / "b.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match=r"b\.jpg: no ground truth"):
        load_scene_folder(tmp_path)
    with pytest.raises(ValueError, match=r"no .* images"):
        pair_scene_photos(tmp_path / "gt", tmp_path / "gt")


@pytest.mark.skipif(not SVT_SCENES.is_dir(), reason="needs ../shared/data/svt_scenes")
def test_the_svt_scenes_folder_loads_249_photos_with_647_words_and_their_lexicons() -> None:
    photos = load_scene_folder(SVT_SCENES)
    assert len(photos) == 249
    assert sum(len(photo.ground_truth) for photo in photos) == 647
    assert all(photo.lexicon for photo in photos)
    assert not any(word.dont_care for photo in photos for word in photo.ground_truth)
