"""A picture of a reading: the photo with each word outlined and labelled with what was read, so a
person sees at a glance what was found, what was missed and what was misread.

Colour says how sure the reading is, as on the web page: red (0) through yellow to green (1).
Each label is sized to its word (never taller than the word, never smaller than a legible
minimum) and placed above it, else below it, else left out where it would cover another label:
the outline still shows the word, and the text is in the page's JSON.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr_lstm.elements import Page, Polygon, Word, bounding_box

# RGB. Lines under the words in blue, a hue that the confidence scale (red to green) never takes.
LINE_COLOUR = (60, 140, 255)
LABEL_TEXT_COLOUR = (0, 0, 0)
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MIN_LABEL_PX = 10  # the smallest legible label text, whatever the word's size
LABEL_SHARE = 0.6  # a label's text is this share of its word's height

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive)
Measure = Callable[[str, int], tuple[int, int]]  # (text, font px) -> label (width, height), padding included


def confidence_colour(confidence: float) -> tuple[int, int, int]:
    """The web page's colour for a confidence: ``hsl(120 * confidence, 90 %, 45 %)``."""
    return _hsl(120 * min(max(confidence, 0.0), 1.0), 0.9, 0.45)


def label_colour(confidence: float) -> tuple[int, int, int]:
    """A pale tint of :func:`confidence_colour` for a label's background (``hsl(h, 70 %, 85 %)``)."""
    return _hsl(120 * min(max(confidence, 0.0), 1.0), 0.7, 0.85)


@dataclass(frozen=True)
class PlacedLabel:
    word: Word
    box: Box
    font_px: int


def word_height(polygon: Polygon) -> float:
    """The height of a word as it reads: the mean of its left and right edges."""
    p = np.asarray(polygon, dtype=np.float64)
    return float((np.linalg.norm(p[3] - p[0]) + np.linalg.norm(p[2] - p[1])) / 2) if len(p) == 4 else 0.0


def place_labels(words: Sequence[Word], measure: Measure, width: int, height: int) -> list[PlacedLabel]:
    """Where each word's label goes: above the word, else below it, inside the photo and on no
    label placed before it; a word whose label fits nowhere gets none."""
    placed: list[PlacedLabel] = []
    for word in words:
        if not word.text:
            continue
        font_px = max(MIN_LABEL_PX, round(LABEL_SHARE * word_height(word.polygon)))
        label_width, label_height = measure(word.text, font_px)
        left, top, _, bottom = bounding_box(word.polygon)
        x = max(0, min(round(left), width - label_width))
        for y in (round(top) - label_height, round(bottom)):
            box = (x, y, x + label_width, y + label_height)
            if y >= 0 and box[3] <= height and not any(_overlap(box, other.box) for other in placed):
                placed.append(PlacedLabel(word, box, font_px))
                break
    return placed


def draw_page(image: np.ndarray, page: Page) -> np.ndarray:
    """A copy of ``image`` (the RGB uint8 photo ``page`` was read from) with each line's polygon, each
    word's polygon in its confidence's colour and, where it fits, a label with the word's text."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image of shape (H, W, 3), got {image.dtype} {image.shape}")
    if image.shape[:2] != (page.height, page.width):
        raise ValueError(
            f"the page was read from a {page.width}x{page.height} photo, not this "
            f"{image.shape[1]}x{image.shape[0]} one"
        )
    canvas = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 600))
    for line in page.lines:
        _outline(canvas, line.polygon, LINE_COLOUR, thickness)
    for word in page.words:
        _outline(canvas, word.polygon, confidence_colour(word.confidence), thickness)
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    for label in place_labels(page.words, lambda text, px: _label_size(draw, text, px), page.width, page.height):
        font = _font(label.font_px)
        left, top, right, bottom = label.box
        draw.rectangle((left, top, right - 1, bottom - 1), fill=label_colour(label.word.confidence),
                       outline=confidence_colour(label.word.confidence))
        x0, y0, _, _ = draw.textbbox((0, 0), label.word.text, font=font)
        pad = _pad(label.font_px)
        draw.text((left + pad - x0, top + pad - min(y0, _reference_top(draw, font))), label.word.text, font=font,
                  fill=LABEL_TEXT_COLOUR)
    return np.array(picture)


def encode_png(rgb: np.ndarray) -> bytes:
    """``rgb`` (H, W, 3 uint8) as a PNG file's bytes."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"could not encode a {rgb.dtype} {rgb.shape} image as PNG")
    return encoded.tobytes()


def _label_size(draw: ImageDraw.ImageDraw, text: str, font_px: int) -> tuple[int, int]:
    # As tall as a word with capitals and descenders, so that "OPEN" and "daily" get labels alike.
    font = _font(font_px)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    _, top, _, bottom = draw.textbbox((0, 0), "Hg", font=font)
    pad = _pad(font_px)
    return round(x1 - x0) + 2 * pad, round(max(y1, bottom) - min(y0, top)) + 2 * pad


def _reference_top(draw: ImageDraw.ImageDraw, font: Font) -> int:
    return round(draw.textbbox((0, 0), "Hg", font=font)[1])


def _pad(font_px: int) -> int:
    return max(1, round(font_px / 6))


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _hsl(hue_degrees: float, saturation: float, lightness: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hls_to_rgb(hue_degrees / 360, lightness, saturation)
    return round(255 * red), round(255 * green), round(255 * blue)


def _outline(canvas: np.ndarray, polygon: Polygon, colour: tuple[int, int, int], thickness: int) -> None:
    points = np.round(np.asarray(polygon, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [points], isClosed=True, color=colour, thickness=thickness, lineType=cv2.LINE_AA)


@lru_cache(maxsize=32)
def _font(size: int) -> Font:
    """DejaVu Sans, else the first installed font that draws Latin, else Pillow's own."""
    for path in _font_paths():
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _font_paths() -> Iterator[str]:
    from ocr_lstm.synth.fonts import find_fonts

    if DEJAVU_SANS.is_file():
        yield str(DEJAVU_SANS)
    yield from (path for path, _ in find_fonts())
