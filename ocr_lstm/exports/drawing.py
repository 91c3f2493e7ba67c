"""A picture of a reading: the photo with each word outlined and labelled with what was read, so a
person sees at a glance what was found, what was missed and what was misread."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr_lstm.elements import Page, Polygon, Word, bounding_box
from ocr_lstm.synth.fonts import find_fonts

# RGB. Words in green with their labels; lines, under them, in orange.
WORD_COLOUR = (0, 200, 80)
LINE_COLOUR = (255, 150, 0)
LABEL_TEXT_COLOUR = (0, 0, 0)
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def draw_page(image: np.ndarray, page: Page) -> np.ndarray:
    """A copy of ``image`` (the RGB uint8 photo ``page`` was read from) with each line's polygon, each
    word's polygon and, on a filled label above the word (below it at the photo's top edge), its text.

    Outlines and text are sized to the photo, not to each word, so that a photo's small words still
    get legible labels and its big ones no shouting.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image of shape (H, W, 3), got {image.dtype} {image.shape}")
    if image.shape[:2] != (page.height, page.width):
        raise ValueError(
            f"the page was read from a {page.width}x{page.height} photo, not this "
            f"{image.shape[1]}x{image.shape[0]} one"
        )
    canvas = image.copy()
    longer_side = max(image.shape[:2])
    word_thickness = max(1, round(longer_side / 500))
    for line in page.lines:
        _outline(canvas, line.polygon, LINE_COLOUR, max(1, word_thickness // 2))
    for word in page.words:
        _outline(canvas, word.polygon, WORD_COLOUR, word_thickness)
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    font = _font(max(10, round(longer_side / 60)))
    for word in page.words:
        if word.text:
            _label(draw, word, font, page)
    return np.array(picture)


def encode_png(rgb: np.ndarray) -> bytes:
    """``rgb`` (H, W, 3 uint8) as a PNG file's bytes."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"could not encode a {rgb.dtype} {rgb.shape} image as PNG")
    return encoded.tobytes()


def _outline(canvas: np.ndarray, polygon: Polygon, colour: tuple[int, int, int], thickness: int) -> None:
    points = np.round(np.asarray(polygon, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [points], isClosed=True, color=colour, thickness=thickness, lineType=cv2.LINE_AA)


def _label(draw: ImageDraw.ImageDraw, word: Word, font: Font, page: Page) -> None:
    left, top, _, bottom = bounding_box(word.polygon)
    x0, y0, x1, y1 = draw.textbbox((0, 0), word.text, font=font)
    # As tall as a word with capitals and descenders, so that "OPEN" and "daily" get labels alike.
    _, reference_top, _, reference_bottom = draw.textbbox((0, 0), "Hg", font=font)
    y0, y1 = min(y0, reference_top), max(y1, reference_bottom)
    pad = max(1, round((y1 - y0) / 5))
    width, height = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    x = max(0, min(round(left), page.width - width))
    y = round(top) - height if top >= height else min(round(bottom), page.height - height)
    draw.rectangle((x, y, x + width - 1, y + height - 1), fill=WORD_COLOUR)
    draw.text((x + pad - x0, y + pad - y0), word.text, font=font, fill=LABEL_TEXT_COLOUR)


@lru_cache(maxsize=4)
def _font(size: int) -> Font:
    """DejaVu Sans, else the first installed font that draws Latin, else Pillow's own."""
    for path in _font_paths():
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _font_paths() -> Iterator[str]:
    if DEJAVU_SANS.is_file():
        yield str(DEJAVU_SANS)
    yield from (path for path, _ in find_fonts())
