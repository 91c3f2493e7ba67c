"""Injected parts for photo-pipeline tests: a detector that returns known lines, and a reader
whose frames spell ``TEXT`` only when it sees a line the right way up.

Each test line is painted dark at the start of its text and bright at its end, so the fake
reader can tell an upright cut from a turned one, as a real model's confidence does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ctc_frames import CHARSET, frames

from ocr_lstm.decoding import CTCDecoder
from ocr_lstm.detection.base import DetectedLine
from ocr_lstm.preprocessing import PreprocessConfig

TEXT = "ab cd"


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
        third = crop.shape[1] // 3
        if crop[:, :third].mean() + 20 < crop[:, -third:].mean():
            rows = ["-"] * steps
            for k, char in enumerate(TEXT):  # spikes at 1/10, 3/10, ... 9/10 of the line
                rows[int(steps * (2 * k + 1) / 10)] = char
            return frames(*rows)
        return frames(*[{"-": 0.4}] * steps)


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
