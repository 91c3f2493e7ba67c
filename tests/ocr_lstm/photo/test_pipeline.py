"""The photo pipeline with injected parts: a detector that returns known lines, and a
reader whose frames spell a known text only when it sees the line the right way up.

Each test line is painted dark at the start of its text and bright at the end, so the
fake reader can tell an upright cut from a turned one, as a real model's confidence does.
"""

from __future__ import annotations

import numpy as np
import pytest
from photo_parts import (
    KEEP_EVERY_WORD,
    FakeDetector,
    GradientOrientation,
    GradientReader,
    box_line,
    fake_ocr,
    painted,
)

from ocr_lstm.elements import Page, bounding_box
from ocr_lstm.photo.pipeline import OCR, OCRConfig


def read(image: np.ndarray, box: tuple[int, int, int, int], config: OCRConfig = KEEP_EVERY_WORD) -> Page:
    return fake_ocr([box_line(box)], config=config)(image)


def centre(polygon) -> tuple[float, float]:
    left, top, right, bottom = bounding_box(polygon)
    return (left + right) / 2, (top + bottom) / 2


def test_an_upright_line_gives_its_words_left_to_right() -> None:
    box = (100, 50, 500, 90)
    page = read(painted(640, 200, box, "right"), box)
    assert page.text == "ab cd"
    first, second = page.words
    assert centre(first.polygon)[0] < 300 < centre(second.polygon)[0]
    left, top, right, bottom = bounding_box(first.polygon)
    # A word's box is the middle 85 % of its line's height (the detector's boxes run past the ink).
    assert top == pytest.approx(53, abs=1) and bottom == pytest.approx(87, abs=1)
    assert left >= 100 - 1 and right <= 500 + 1
    assert page.lines[0].polygon[0] == (100.0, 50.0)  # the text's top-left comes first


def test_an_upside_down_line_is_read_turned_and_its_words_map_back_right_to_left() -> None:
    box = (100, 50, 500, 90)
    page = read(painted(640, 200, box, "left"), box)
    assert page.text == "ab cd"
    first, second = page.words
    assert centre(first.polygon)[0] > 300 > centre(second.polygon)[0]
    assert page.lines[0].polygon[0] == (500.0, 90.0)  # the text's top-left is the photo's bottom-right
    assert first.polygon[0][1] > first.polygon[2][1]  # and its words' polygons are turned too


@pytest.mark.parametrize(("direction", "first_is_higher"), [("down", True), ("up", False)])
def test_a_vertical_line_gives_each_word_its_own_box(direction: str, first_is_higher: bool) -> None:
    box = (300, 40, 340, 440)
    page = read(painted(640, 480, box, direction), box)
    assert page.text == "ab cd"
    first, second = page.words
    assert (centre(first.polygon)[1] < centre(second.polygon)[1]) == first_is_higher
    for word in page.words:
        left, _, right, _ = bounding_box(word.polygon)  # the middle 85 % of the line's 40 px
        assert left == pytest.approx(303, abs=1) and right == pytest.approx(337, abs=1)


def test_a_wide_line_the_classifier_finds_upright_is_read_once() -> None:
    box = (100, 50, 500, 90)
    reader = GradientReader()
    fake_ocr([box_line(box)], reader)(painted(640, 200, box, "right"))
    assert reader.batches == [1]


def test_the_classifier_not_the_models_confidence_decides_a_wide_lines_way_up() -> None:
    box = (100, 50, 500, 90)
    never_turned = OCR(FakeDetector([box_line(box)]), GradientReader(), KEEP_EVERY_WORD,
                       orientation=lambda crops: [0.0] * len(crops))
    page = never_turned(painted(640, 200, box, "left"))
    assert page.text == ""  # read as it lies: the fake reader sees only blanks


def test_without_a_classifier_no_line_is_turned() -> None:
    box = (100, 50, 500, 90)
    reader = GradientReader()
    page = OCR(FakeDetector([box_line(box)]), reader, KEEP_EVERY_WORD, orientation=False)(
        painted(640, 200, box, "left"))
    assert page.text == "" and reader.batches == [1]


def test_words_below_the_confidence_floor_are_left_out() -> None:
    box = (100, 50, 500, 90)
    image = painted(640, 200, box, "right")  # the fake reads each letter at 0.9: a word at 0.81
    assert read(image, box, OCRConfig(min_confidence=0.0, short_word_confidence=0.8)).text == "ab cd"
    assert read(image, box, OCRConfig(min_confidence=0.0, short_word_confidence=0.85)).text == ""
    assert read(image, box, OCRConfig()).text == ""  # by default a two-letter word needs 0.97


def test_a_photo_without_text_gives_an_empty_page() -> None:
    page = fake_ocr([])(np.zeros((100, 200, 3), np.uint8))
    assert page.blocks == () and page.text == "" and (page.width, page.height) == (200, 100)


def test_the_lines_of_several_photos_share_the_recognizer_batches() -> None:
    box = (100, 50, 500, 90)
    reader = GradientReader()
    detector = FakeDetector([box_line(box)])
    image = painted(640, 200, box, "right")
    pages = OCR(detector, reader, KEEP_EVERY_WORD, GradientOrientation())([image, image, image])
    assert [p.text for p in pages] == ["ab cd"] * 3
    assert detector.calls == 3 and reader.batches == [3]


def test_a_lexicon_snaps_each_word_to_its_closest_entry() -> None:
    box = (100, 50, 500, 90)
    page = fake_ocr([box_line(box)])(painted(640, 200, box, "right"), lexicon=["ab", "cat"])
    assert [w.text for w in page.words] == ["ab", "cat"]


def test_word_confidences_multiply_their_characters() -> None:
    box = (100, 50, 500, 90)
    page = read(painted(640, 200, box, "right"), box)
    for word in page.words:
        assert word.confidence == pytest.approx(np.prod([c.confidence for c in word.chars]))
        assert 0 < word.confidence <= 1


def test_pages_name_their_photos_given_as_paths(tmp_path) -> None:
    import cv2

    box = (100, 50, 500, 90)
    path = tmp_path / "sign.png"
    cv2.imwrite(str(path), painted(640, 200, box, "right"))
    page = fake_ocr([box_line(box)])(str(path))
    assert page.source == str(path)


@pytest.mark.parametrize(("field", "value"), [("upside_down_above", 2.0), ("word_height", 0.0),
                                              ("min_confidence", -0.1), ("short_word_confidence", 1.5)])
def test_the_config_refuses_nonsense(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        OCRConfig(**{field: value})


def test_a_photo_larger_than_the_reading_size_is_read_smaller_and_answered_in_its_own_pixels() -> None:
    image = painted(1280, 400, (100, 50, 500, 90), "right")
    config = OCRConfig(min_confidence=0.0, short_word_confidence=0.0, read_pixels=1280 * 400 // 4)
    # The detector sees the photo read at half its size, where the line lies at half its coordinates.
    ocr = OCR(FakeDetector([box_line((50, 25, 250, 45))]), GradientReader(), config, GradientOrientation())
    page = ocr(image)
    assert (page.width, page.height) == (1280, 400) and page.text == "ab cd"
    left, top, right, bottom = bounding_box(page.lines[0].polygon)
    assert (left, top, right, bottom) == pytest.approx((100, 50, 500, 90), abs=1)
    assert all(100 - 1 <= x <= 500 + 1 for word in page.words for x, _ in word.polygon)


def test_lines_found_before_are_read_without_detecting_again() -> None:
    box = (100, 50, 500, 90)
    detector = FakeDetector([])  # would find nothing
    ocr = OCR(detector, GradientReader(), KEEP_EVERY_WORD, GradientOrientation())
    [page] = ocr.read_images([painted(640, 200, box, "right")], detections=[[box_line(box)]])
    assert page.text == "ab cd" and detector.calls == 0
