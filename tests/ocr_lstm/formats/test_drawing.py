from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr_lstm.elements import Page, Word, bounding_box, box_polygon
from ocr_lstm.formats import draw_page, encode_png
from ocr_lstm.formats.drawing import (
    LINE_COLOUR,
    MIN_LABEL_PX,
    confidence_colour,
    label_colour,
    place_labels,
)


@pytest.fixture
def photo() -> np.ndarray:
    """The fixture page's 400x300 photo: dark grey with a little noise."""
    rng = np.random.default_rng(0)
    return rng.integers(20, 40, size=(300, 400, 3), dtype=np.uint8)


def distance(pixel: np.ndarray, colour: tuple[int, int, int]) -> float:
    return float(np.linalg.norm(pixel.astype(float) - colour))


def test_the_picture_has_the_photos_shape_and_dtype_and_leaves_the_photo_alone(
    photo: np.ndarray, page: Page
) -> None:
    before = photo.copy()

    picture = draw_page(photo, page)

    assert picture.shape == photo.shape and picture.dtype == np.uint8
    np.testing.assert_array_equal(photo, before)


def test_word_outlines_are_drawn_in_their_confidences_colour(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)
    sure, unsure = confidence_colour(0.98), confidence_colour(0.001)  # OPEN, and 7/7 below it

    # Bottom edges: the labels sit above the words.
    assert distance(picture[70, 80], sure) < distance(photo[70, 80], sure) / 2
    assert distance(picture[120, 245], unsure) < distance(photo[120, 245], unsure) / 2


def test_colours_run_from_red_when_unsure_to_green_when_sure() -> None:
    red, yellow, green = confidence_colour(0.0), confidence_colour(0.5), confidence_colour(1.0)
    assert red[0] > 200 and red[1] < 30 and green[1] > 200 and green[0] < 30
    assert yellow[0] > 200 and yellow[1] > 200 and yellow[2] < 30
    assert min(label_colour(0.3)) > 180  # labels are pale, so their dark text reads


def test_a_tilted_words_outline_follows_its_polygon(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)
    (x0, y0), (x1, y1) = page.blocks[1].lines[0].words[1].polygon[2:4]  # bottom edge, right to left
    x, y = round((x0 + x1) / 2), round((y0 + y1) / 2)

    colour = confidence_colour(page.blocks[1].lines[0].words[1].confidence)
    assert distance(picture[y, x], colour) < distance(photo[y, x], colour) / 2


def test_line_outlines_are_drawn_in_the_second_colour(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)

    # The second line's right end, past its last word.
    assert distance(picture[125, 340], LINE_COLOUR) < distance(photo[125, 340], LINE_COLOUR) / 2
    assert distance(picture[105, 375], LINE_COLOUR) < distance(photo[105, 375], LINE_COLOUR) / 2


def test_each_word_gets_a_filled_label_above_it_or_below_at_the_photos_top(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)

    for word in page.blocks[0].lines[0].words:  # 40 px high words 30 px from the top: no room above
        left, _, _, bottom = (round(v) for v in bounding_box(word.polygon))
        label = picture[bottom + 2 : bottom + 20, left + 2 : left + 20]
        assert np.all(picture[bottom + 2, left + 4 : left + 20] == label_colour(word.confidence))
        assert np.any(np.all(label < 60, axis=-1))  # dark text on it
    x, y = (round(v) for v in page.blocks[1].lines[0].words[0].polygon[0])  # room above: the label is there
    assert np.all(picture[y - 3, x + 4 : x + 20] == label_colour(page.blocks[1].lines[0].words[0].confidence))


def test_a_region_far_from_the_text_is_untouched(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)

    np.testing.assert_array_equal(picture[200:, 300:], photo[200:, 300:])


def test_an_empty_page_gives_an_equal_copy(photo: np.ndarray) -> None:
    picture = draw_page(photo, Page((), width=400, height=300))

    np.testing.assert_array_equal(picture, photo)
    assert not np.shares_memory(picture, photo)


def test_a_photo_of_another_size_than_the_pages_is_refused(photo: np.ndarray, page: Page) -> None:
    with pytest.raises(ValueError, match="400x300"):
        draw_page(photo[:200], page)


def test_a_grey_photo_is_refused(page: Page) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        draw_page(np.zeros((300, 400), dtype=np.uint8), page)


def test_encode_png_gives_a_png_that_decodes_to_the_same_pixels(photo: np.ndarray) -> None:
    data = encode_png(photo)

    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), photo)


def measure(text: str, font_px: int) -> tuple[int, int]:
    """A label as wide as its text at 0.6 px per px of font per character, 1.2 times the font high."""
    return round(0.6 * font_px * len(text)), round(1.2 * font_px)


def test_labels_are_sized_to_their_words_within_a_legible_minimum() -> None:
    big, small = Word("EXIT", 0.9, box_polygon(10, 100, 210, 200)), Word("exit", 0.9, box_polygon(300, 100, 330, 108))
    placed = {label.word.text: label for label in place_labels([big, small], measure, 640, 480)}
    assert placed["EXIT"].font_px == 60 and placed["EXIT"].box[3] - placed["EXIT"].box[1] <= 100
    assert placed["exit"].font_px == MIN_LABEL_PX


def test_labels_never_pile_up_and_stay_in_the_photo() -> None:
    # Three lines of words packed tight: not every label fits, and none covers another.
    words = [Word(f"w{row}{col}", 0.8, box_polygon(col * 40, 10 + row * 22, col * 40 + 38, 30 + row * 22))
             for row in range(3) for col in range(4)]
    placed = place_labels(words, measure, 160, 80)
    assert 0 < len(placed) < len(words)
    for n, label in enumerate(placed):
        left, top, right, bottom = label.box
        assert left >= 0 and right <= 160 and top >= 0 and bottom <= 80
        for other in placed[n + 1 :]:
            o_left, o_top, o_right, o_bottom = other.box
            assert right <= o_left or o_right <= left or bottom <= o_top or o_bottom <= top
