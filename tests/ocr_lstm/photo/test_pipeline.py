"""The photo pipeline with injected parts: a detector that returns known lines, and a
reader whose frames spell a known text only when it sees the line the right way up.

Each test line is painted dark at the start of its text and bright at the end, so the
fake reader can tell an upright cut from a turned one, as a real model's confidence does.
"""

from __future__ import annotations

import numpy as np
import pytest
from photo_parts import FakeDetector, GradientReader, box_line, painted

from ocr_lstm.elements import Page, bounding_box
from ocr_lstm.photo.pipeline import OCR, OCRConfig


def read(image: np.ndarray, box: tuple[int, int, int, int]) -> Page:
    return OCR(FakeDetector([box_line(box)]), GradientReader())(image)


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
    assert top == pytest.approx(50, abs=1) and bottom == pytest.approx(90, abs=1)
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
        left, _, right, _ = bounding_box(word.polygon)
        assert left == pytest.approx(300, abs=1) and right == pytest.approx(340, abs=1)


def test_a_confident_wide_line_is_read_once() -> None:
    box = (100, 50, 500, 90)
    reader = GradientReader()
    OCR(FakeDetector([box_line(box)]), reader)(painted(640, 200, box, "right"))
    assert reader.batches == [1]


def test_a_photo_without_text_gives_an_empty_page() -> None:
    page = OCR(FakeDetector([]), GradientReader())(np.zeros((100, 200, 3), np.uint8))
    assert page.blocks == () and page.text == "" and (page.width, page.height) == (200, 100)


def test_the_lines_of_several_photos_share_the_recognizer_batches() -> None:
    box = (100, 50, 500, 90)
    reader = GradientReader()
    detector = FakeDetector([box_line(box)])
    image = painted(640, 200, box, "right")
    pages = OCR(detector, reader)([image, image, image])
    assert [p.text for p in pages] == ["ab cd"] * 3
    assert detector.calls == 3 and reader.batches == [3]


def test_a_lexicon_snaps_each_word_to_its_closest_entry() -> None:
    box = (100, 50, 500, 90)
    page = OCR(FakeDetector([box_line(box)]), GradientReader())(painted(640, 200, box, "right"), lexicon=["ab", "cat"])
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
    page = OCR(FakeDetector([box_line(box)]), GradientReader())(str(path))
    assert page.source == str(path)


def test_the_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="flip_below"):
        OCRConfig(flip_below=2.0)
