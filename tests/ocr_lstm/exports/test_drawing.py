from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr_lstm.elements import Page
from ocr_lstm.exports import draw_page, encode_png
from ocr_lstm.exports.drawing import LINE_COLOUR, WORD_COLOUR


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


def test_word_outlines_are_drawn_in_the_word_colour(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)

    # Bottom edges: the labels sit above the words.
    assert distance(picture[70, 80], WORD_COLOUR) < distance(photo[70, 80], WORD_COLOUR) / 2
    assert distance(picture[120, 245], WORD_COLOUR) < distance(photo[120, 245], WORD_COLOUR) / 2


def test_a_tilted_words_outline_follows_its_polygon(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)
    (x0, y0), (x1, y1) = page.blocks[1].lines[0].words[1].polygon[2:4]  # bottom edge, right to left
    x, y = round((x0 + x1) / 2), round((y0 + y1) / 2)

    assert distance(picture[y, x], WORD_COLOUR) < distance(photo[y, x], WORD_COLOUR) / 2


def test_line_outlines_are_drawn_in_the_second_colour(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)

    # The second line's right end, past its last word.
    assert distance(picture[125, 340], LINE_COLOUR) < distance(photo[125, 340], LINE_COLOUR) / 2
    assert distance(picture[105, 375], LINE_COLOUR) < distance(photo[105, 375], LINE_COLOUR) / 2


def test_each_word_gets_a_filled_label_above_it(photo: np.ndarray, page: Page) -> None:
    picture = draw_page(photo, page)

    for x, y in (word.polygon[0] for word in page.blocks[0].lines[0].words):  # upright: top left
        label = picture[y - 30 : y, x : x + 20]
        assert np.all(picture[y - 1, x : x + 20] == WORD_COLOUR)
        assert np.any(np.all(label < 60, axis=-1))  # dark text on it


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
