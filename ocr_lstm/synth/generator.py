"""Render labelled word images that look like cropped scene text.

A word is drawn in a random installed font over a flat colour, a gradient, or a
patch of a photographic/textured wallpaper, sometimes letter-spaced, outlined
in a second colour, ruled by a sign's edge or flanked by slivers of the
neighbouring words a loose detector box lets in, then degraded the way real
crops are: rotation, perspective, uneven cropping, blur, noise, low resolution
and JPEG artefacts. ``difficulty`` in [0, 1] scales how likely and how strong the
degradations are (a curriculum starts clean and ends hard). A generator with
the same seed yields the same images.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr_lstm.errors import UnavailableError
from ocr_lstm.synth.fonts import find_fonts
from ocr_lstm.synth.words import sample_line, sample_text

BACKGROUND_DIRS = (Path("/usr/share/backgrounds"), Path("/usr/share/wallpapers"))
RASTER_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# Raised whenever a seed's images change, so pools cached by training are rendered again.
GENERATOR_VERSION = 4


@dataclass(frozen=True)
class SynthConfig:
    """Knobs of the generator; defaults chosen to resemble real word crops."""

    difficulty: float = 0.6
    font_size: tuple[int, int] = (28, 64)
    max_length: int = 24
    background_dirs: tuple[Path, ...] = BACKGROUND_DIRS
    # How often each sign-like style is drawn (probabilities per image).
    letter_spacing: float = 0.15  # tracked-out lettering, as on shop fronts
    outline: float = 0.1  # letters outlined in a second colour
    neighbours: float = 0.2  # parts of the words left and right of this one
    rule: float = 0.1  # a line above or below: a sign's edge or an underline
    # Text lines as a detector cuts them out of photos: several words with the spaces
    # between them (share of images; 0 draws nothing, so older pools replay exactly).
    lines: float = 0.0
    line_words: tuple[int, int] = (2, 6)
    max_line_length: int = 48
    # Share of images with the edge of the text line above or below showing in the margin,
    # as a loose detector box lets in.
    line_edges: float = 0.0


@lru_cache(maxsize=2)
def load_backgrounds(dirs: tuple[Path, ...], max_side: int = 640, limit: int = 200) -> tuple[np.ndarray, ...]:
    """Wallpapers from the installed background packages, downscaled once and kept in memory."""
    images: list[np.ndarray] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            if path.suffix.lower() not in RASTER_SUFFIXES or len(images) >= limit:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            scale = max_side / max(image.shape[:2])
            if scale < 1:
                image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            images.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return tuple(images)


def _ink_width(font: ImageFont.FreeTypeFont, char: str) -> int:
    """How many pixel columns ``char``'s ink spans in ``font``."""
    left, _, right, _ = font.getbbox(char)
    return max(int(right - left), 1)


class SynthGenerator:
    """An endless, seeded stream of ``(rgb_image, text)`` pairs."""

    def __init__(self, seed: int = 0, config: SynthConfig | None = None) -> None:
        self.config = config or SynthConfig()
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.fonts = find_fonts()
        if not self.fonts:
            raise UnavailableError("no usable fonts found; install fonts (see README, `make setup`)")
        self.backgrounds = load_backgrounds(self.config.background_dirs)
        self._font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}

    def __iter__(self) -> Iterator[tuple[np.ndarray, str]]:
        while True:
            yield self.render()

    def _font(self, text: str) -> ImageFont.FreeTypeFont:
        for _ in range(20):
            path, glyphs = self.rng.choice(self.fonts)
            if all(c in glyphs or c == " " for c in text):
                break
        size = self.rng.randint(*self.config.font_size)
        key = (path, size)
        if key not in self._font_cache:
            if len(self._font_cache) > 512:
                self._font_cache.clear()
            self._font_cache[key] = ImageFont.truetype(path, size)
        return self._font_cache[key]

    def render(self, text: str | None = None) -> tuple[np.ndarray, str]:
        """One image of ``text`` (a sampled word when None) as RGB ``uint8``."""
        rng, hard, config = self.rng, self.config.difficulty, self.config
        if text is None:
            is_line = bool(config.lines) and rng.random() < config.lines
            text = sample_line(rng, config.line_words, config.max_line_length) if is_line \
                else sample_text(rng, config.max_length)
        font = self._font(text)
        spacing = font.size * rng.uniform(0.05, 0.4) if rng.random() < config.letter_spacing else 0.0
        # Word spaces vary from sign to sign: from a tight 0.7 to a loose 2.2 of the font's space.
        word_gap = font.getlength(" ") * (rng.uniform(0.7, 2.2) - 1) if config.lines and " " in text else 0.0
        left, top, right, bottom = map(int, font.getbbox(text))  # whole pixels for a FreeTypeFont
        text_w = max(right - left + round(spacing * (len(text) - 1) + word_gap * text.count(" ")), 1)
        text_h = max(bottom - top, 1)
        pad_x = int(text_h * rng.uniform(0.1, 0.6))
        pad_y = int(text_h * rng.uniform(0.15, 0.5))
        pad_left = pad_right = pad_x
        neighbours = (sample_text(rng, config.max_length), sample_text(rng, config.max_length)) \
            if rng.random() < config.neighbours else None
        if neighbours:
            # A word space (wider with the letters' spacing) to each neighbour, then the edge
            # cuts through the neighbour's nearest letter: a sliver, never a whole letter.
            gap = round(spacing + font.getlength(" ") * rng.uniform(0.7, 1.5))
            pad_left = gap + max(1, round(_ink_width(font, neighbours[0][-1]) * rng.uniform(0.25, 0.7)))
            pad_right = gap + max(1, round(_ink_width(font, neighbours[1][0]) * rng.uniform(0.25, 0.7)))
        width, height = text_w + pad_left + pad_right, text_h + 2 * pad_y
        background = self._background(width, height)
        text_colour = self._contrasting_colour(background)
        origin = (pad_left - left, pad_y - top)

        outline = rng.randint(1, max(1, int(font.size) // 12)) if rng.random() < config.outline else 0
        mask = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(mask)
        stroke = 1 if not outline and rng.random() < 0.15 else 0  # faux bold
        placements: list[tuple[tuple[float, float], str]] = [(origin, text)]
        if neighbours:
            before, after = neighbours
            # The last letter of `before` ends its ink `gap` left of the word's ink; the
            # first letter of `after` starts its ink `gap` right of it.
            last_start = font.getlength(before[:-1]) + spacing * (len(before) - 1)
            before_x = pad_left - gap - last_start - font.getbbox(before[-1])[2]
            after_x = pad_left + text_w + gap - font.getbbox(after[0])[0]
            placements += [((before_x, origin[1]), before), ((after_x, origin[1]), after)]
        if config.line_edges and rng.random() < config.line_edges:
            # The line above or below, a small leading away: only the part inside the margin shows.
            leading = text_h * rng.uniform(0.05, 0.4)
            other = sample_line(rng, config.line_words, config.max_line_length)
            shift = -(text_h + leading) if rng.random() < 0.5 else text_h + leading
            placements.append(((origin[0] - rng.uniform(0, text_h), origin[1] + shift), other))
        for position, words in placements:
            self._draw_text(draw, position, words, font, spacing, stroke, word_gap)
        if rng.random() < config.rule:
            thickness = max(1, text_h // rng.randint(8, 16))
            y = rng.choice([max(0, pad_y // 3), height - 1 - max(0, pad_y // 3)])
            draw.rectangle((0, y - thickness // 2, width, y + thickness // 2), fill=255)
        alpha = np.asarray(mask, dtype=np.float32)[..., None] / 255.0
        if rng.random() < 0.15 * hard:
            shadow = np.roll(alpha, (rng.randint(1, 3), rng.randint(1, 3)), axis=(0, 1))
            background = background * (1 - 0.6 * shadow)
        if outline:
            # Outline colour under the stroked text, the text colour inside it.
            rim = Image.new("L", (width, height), 0)
            for position, words in placements:  # neighbours are outlined like the word
                self._draw_text(ImageDraw.Draw(rim), position, words, font, spacing, outline, word_gap)
            rim_alpha = np.maximum(np.asarray(rim, dtype=np.float32)[..., None] / 255.0, alpha)
            rim_colour = np.array(self._contrasting_colour(np.array(text_colour, dtype=np.float32)), dtype=np.float32)
            background = background * (1 - rim_alpha) + rim_colour * rim_alpha
        image = background * (1 - alpha) + np.array(text_colour, dtype=np.float32) * alpha
        image = self._geometry(image.clip(0, 255).astype(np.uint8), hard)
        return self._degrade(image, hard), text

    @staticmethod
    def _draw_text(
        draw: ImageDraw.ImageDraw, origin: tuple[float, float], text: str, font: ImageFont.FreeTypeFont,
        spacing: float, stroke: int, word_gap: float = 0.0,
    ) -> None:
        """``text`` at ``origin``, each letter ``spacing`` pixels and each space ``word_gap``
        pixels further right than the font sets them."""
        if not spacing and not word_gap:
            draw.text(origin, text, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
            return
        x, y = origin
        if not spacing:  # whole words keep their kerning; only the spaces between them change
            for match in re.finditer("[^ ]+", text):
                start, stop = match.span()
                word = text[start:stop]
                spaces = text.count(" ", 0, start)
                offset = font.getlength(text[:start]) + word_gap * spaces
                draw.text((x + offset, y), word, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
            return
        for i, char in enumerate(text):
            # Advance by the prefix's length, so kerning within the word is kept.
            offset = font.getlength(text[:i]) + spacing * i + word_gap * text.count(" ", 0, i)
            draw.text((x + offset, y), char, font=font, fill=255, stroke_width=stroke, stroke_fill=255)

    def _background(self, width: int, height: int) -> np.ndarray:
        rng = self.rng
        roll = rng.random()
        if self.backgrounds and roll < 0.55:
            source = rng.choice(self.backgrounds)
            scale = rng.uniform(0.3, 1.5)
            src_h = min(source.shape[0], max(8, int(height / scale)))
            src_w = min(source.shape[1], max(8, int(width / scale)))
            y = rng.randrange(source.shape[0] - src_h + 1)
            x = rng.randrange(source.shape[1] - src_w + 1)
            patch = cv2.resize(source[y : y + src_h, x : x + src_w], (width, height), interpolation=cv2.INTER_LINEAR)
            if rng.random() < 0.5:
                patch = cv2.GaussianBlur(patch, (0, 0), rng.uniform(0.5, 3.0))
            return patch.astype(np.float32)
        base = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
        if roll < 0.8:
            other = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
            ramp = np.linspace(0, 1, width if rng.random() < 0.5 else height, dtype=np.float32)
            ramp = ramp[None, :, None] if ramp.shape[0] == width else ramp[:, None, None]
            return np.broadcast_to(base + (other - base) * ramp * rng.uniform(0.2, 1), (height, width, 3)).copy()
        return np.broadcast_to(base, (height, width, 3)).copy()

    def _contrasting_colour(self, background: np.ndarray) -> tuple[int, int, int]:
        mean = float(background.mean())
        for _ in range(10):
            colour = tuple(self.rng.randint(0, 255) for _ in range(3))
            luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
            if abs(luminance - mean) > 70:
                return colour  # type: ignore[return-value]
        return (0, 0, 0) if mean > 127 else (255, 255, 255)

    def _geometry(self, image: np.ndarray, hard: float) -> np.ndarray:
        rng = self.rng
        height, width = image.shape[:2]
        border = cv2.BORDER_REPLICATE
        if rng.random() < 0.5 * hard:
            jitter = 0.12 * hard * height
            src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
            jitters = [[rng.uniform(-jitter, jitter), rng.uniform(-jitter, jitter)] for _ in range(4)]
            dst = src + np.array(jitters, dtype=np.float32)
            matrix = cv2.getPerspectiveTransform(src, dst)
            image = cv2.warpPerspective(image, matrix, (width, height), borderMode=border)
        if rng.random() < 0.4 * hard:
            angle = rng.gauss(0, 3 * hard)
            matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
            image = cv2.warpAffine(image, matrix, (width, height), borderMode=border)
        if rng.random() < 0.3 * hard:
            shear = rng.uniform(-0.3, 0.3) * hard
            matrix = np.array([[1, shear, -shear * height / 2], [0, 1, 0]], dtype=np.float32)
            image = cv2.warpAffine(image, matrix, (width, height), borderMode=border)
        # Real crops are often cut tight, sometimes through the letters' edges.
        if rng.random() < 0.5:
            cut_y = int(height * rng.uniform(0, 0.12))
            cut_x = int(width * rng.uniform(0, 0.04))
            if self.config.lines:  # a line's 4 % can be whole letters: cut at most a fifth of the height
                cut_x = min(cut_x, height // 5)
            image = image[cut_y : height - int(height * rng.uniform(0, 0.12)) or height, cut_x : width - cut_x or width]
        return np.ascontiguousarray(image)

    def _degrade(self, image: np.ndarray, hard: float) -> np.ndarray:
        rng = self.rng
        if rng.random() < 0.4 * hard:
            image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.5 * hard + 0.3))
        if rng.random() < 0.3 * hard:
            height, width = image.shape[:2]
            factor = rng.uniform(0.25, 0.7)
            small_size = (max(4, int(width * factor)), max(4, int(height * factor)))
            small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
            image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.3 * hard:
            sigma = rng.uniform(2, 12 * hard + 2)
            image = (image + self.np_rng.normal(0, sigma, image.shape)).clip(0, 255).astype(np.uint8)
        if rng.random() < 0.3 * hard:
            alpha, beta = rng.uniform(0.5, 1.3), rng.uniform(-40, 40)
            image = cv2.convertScaleAbs(image, alpha=alpha, beta=beta)
        if rng.random() < 0.4 * hard:
            quality = rng.randint(int(60 - 45 * hard), 95)
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED) if ok else None
            if decoded is not None:
                image = decoded
        if rng.random() < 0.5:
            image = image[..., ::-1]  # RGB/BGR swap: colour is noise for a grayscale model
        return np.ascontiguousarray(image)
