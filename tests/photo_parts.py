"""Injected parts for photo-pipeline tests: a detector that returns known lines, a reader
whose frames spell ``TEXT`` only when it sees a line the right way up, and an orientation
classifier that knows which way up a line is.

Each test line is painted dark at the start of its text and bright at its end, so the fake
reader and classifier can tell an upright cut from a turned one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ctc_frames import CHARSET, frames

from ocr_lstm.detection.base import DetectedLine
from ocr_lstm.photo.pipeline import OCR, OCRConfig
from ocr_lstm.preprocessing import PreprocessConfig
from ocr_lstm.recognition.decoding import CTCDecoder

TEXT = "ab cd"
# The fake's words are two letters long: keep them, whatever their confidence.
KEEP_EVERY_WORD = OCRConfig(min_confidence=0.0, short_word_confidence=0.0)


class FakeDetector:
    def __init__(self, lines: Sequence[DetectedLine]) -> None:
        self.lines = list(lines)
        self.calls = 0

    def __call__(self, image: np.ndarray) -> list[DetectedLine]:
        self.calls += 1
        return self.lines


class GradientReader:
    """Reads ``TEXT`` with its characters spread evenly along the crop when the crop darkens
    to the left (the line's start), and unsure blanks otherwise."""

    def __init__(self) -> None:
        self.preprocess = PreprocessConfig()
        self.decoder = CTCDecoder(CHARSET)
        self.batches: list[int] = []

    def frame_log_probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        self.batches.append(len(crops))
        return [self._frames(crop) for crop in crops]

    @staticmethod
    def _frames(crop: np.ndarray) -> np.ndarray:
        steps = crop.shape[1] // 4
        if starts_dark(crop):
            rows = ["-"] * steps
            for k, char in enumerate(TEXT):  # spikes at 1/10, 3/10, ... 9/10 of the line
                rows[int(steps * (2 * k + 1) / 10)] = char
            return frames(*rows)
        return frames(*[{"-": 0.4}] * steps)


def starts_dark(crop: np.ndarray) -> bool:
    """Whether a cut darkens towards its left: the painted line's start, seen the right way up."""
    third = max(1, crop.shape[1] // 3)
    return bool(crop[:, :third].mean() + 20 < crop[:, -third:].mean())


class GradientOrientation:
    """Finds a wide line upside down when its cut brightens towards the left."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, crops: Sequence[np.ndarray]) -> list[float]:
        self.calls.append(len(crops))
        return [0.0 if starts_dark(crop) else 1.0 for crop in crops]


def fake_ocr(lines: Sequence[DetectedLine], reader: GradientReader | None = None,
             config: OCRConfig = KEEP_EVERY_WORD) -> OCR:
    """The pipeline on the fake parts, keeping every word the fake reader spells."""
    return OCR(FakeDetector(lines), reader or GradientReader(), config, orientation=GradientOrientation())


def painted(width: int, height: int, box: tuple[int, int, int, int], direction: str) -> np.ndarray:
    """A grey photo with a box whose brightness ramps along ``direction`` (right, left, down, up)."""
    image = np.full((height, width, 3), 128, np.uint8)
    left, top, right, bottom = box
    length = right - left if direction in ("right", "left") else bottom - top
    ramp = np.linspace(10, 245, length).astype(np.uint8)
    if direction in ("left", "up"):
        ramp = ramp[::-1]
    patch = np.tile(ramp[None, :], (bottom - top, 1)) if direction in ("right", "left") \
        else np.tile(ramp[:, None], (1, right - left))
    image[top:bottom, left:right] = patch[..., None]
    return image


def box_line(box: tuple[int, int, int, int], score: float = 0.9) -> DetectedLine:
    left, top, right, bottom = box
    return DetectedLine(((left, top), (right, top), (right, bottom), (left, bottom)), score)
