"""Word images drawn at test time, shared by the tests (``from word_images import render_word``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def render_word(text: str, height: int = 48, font_path: Path | None = None) -> Image.Image:
    """Black text on white, the simplest legible word image."""
    font_path = font_path or DEJAVU
    font = ImageFont.truetype(str(font_path), int(height * 0.7)) if font_path.is_file() else ImageFont.load_default()
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 16, bottom - top + 16), "white")
    ImageDraw.Draw(image).text((8 - left, 8 - top), text, font=font, fill="black")
    return image


def random_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
