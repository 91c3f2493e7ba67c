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


def render_photo(
    lines: list[tuple[str, tuple[int, int], int]], size: tuple[int, int] = (800, 500), seed: int = 0
) -> tuple[np.ndarray, list[tuple[str, tuple[float, float, float, float]]]]:
    """A photo-like RGB image (a noisy light gradient) with dark text ``lines``, each given as
    ``(text, (left, top), font_px)``, and every word's ink box ``(text, (x0, y0, x1, y1))``."""
    width, height = size
    rng = np.random.default_rng(seed)
    ramp = np.linspace(190, 250, width, dtype=np.float32)[None, :, None]
    background = np.broadcast_to(ramp, (height, width, 3)) + rng.normal(0, 6, (height, width, 3))
    image = Image.fromarray(background.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    words: list[tuple[str, tuple[float, float, float, float]]] = []
    for text, (x, y), font_px in lines:
        font = ImageFont.truetype(str(DEJAVU), font_px) if DEJAVU.is_file() else ImageFont.load_default()
        draw.text((x, y), text, font=font, fill=(20, 20, 30))
        start = 0
        for word in text.split(" "):
            offset = font.getlength(text[:start])
            left, top, right, bottom = font.getbbox(word)
            words.append((word, (x + offset + left, y + top, x + offset + right, y + bottom)))
            start += len(word) + 1
    return np.asarray(image), words


def labelled_folder(root: Path, words: list[str]) -> Path:
    """A labelled set (``labels.tsv``) of ``words`` rendered one per image, plus a corrupt
    ``bad.png`` labelled ``broken``."""
    root.mkdir(parents=True)
    for i, word in enumerate(words):
        render_word(word).save(root / f"{i}.png")
    (root / "bad.png").write_bytes(b"corrupt")
    lines = [f"{i}.png\t{word}\n" for i, word in enumerate(words)] + ["bad.png\tbroken\n"]
    (root / "labels.tsv").write_text("".join(lines))
    return root


def rendered_scene_folder(folder: Path, lines: list[tuple[str, tuple[int, int], int]]) -> Path:
    """``folder`` as a one-photo scene set (``images/a.jpg`` and ``gt/gt_a.txt``, ICDAR 2015 boxes)
    holding ``lines`` rendered by :func:`render_photo`."""
    from PIL import Image

    (folder / "images").mkdir(parents=True)
    (folder / "gt").mkdir()
    image, boxes = render_photo(lines)
    Image.fromarray(image).save(folder / "images" / "a.jpg")
    (folder / "gt" / "gt_a.txt").write_text("".join(
        f"{x0:.0f},{y0:.0f},{x1:.0f},{y0:.0f},{x1:.0f},{y1:.0f},{x0:.0f},{y1:.0f},{text}\n"
        for text, (x0, y0, x1, y1) in boxes
    ))
    return folder
