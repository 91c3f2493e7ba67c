"""Which way up a cut-out text line is: PaddleOCR's 0/180 degree line classifier.

A CRNN reads an upside-down line as confidently as an upright one: turned glyphs
look like other glyphs (``Supplies``, turned, was read ``aayddns``). On the
250 ``ic15_scenes`` photos the bundled model's own confidence chose the turned
reading for 190 words and not one of them was right (docs/photos.md), so the
decision is left to a classifier trained for it: ``ch_ppocr_mobile_v2.0_cls_mobile``
(0.58 MB ONNX, Apache-2.0), shipped in the same ``rapidocr`` wheel as the detector.
Its pre-processing (height 48, width up to 192, padded, scaled to [-1, 1]) follows
PaddleOCR's; a grey crop is given to it on three equal channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from ocr_lstm.detection.db_onnx import session_options
from ocr_lstm.detection.models import locate_model

CLASSIFIER_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile"
INPUT_HEIGHT, INPUT_WIDTH = 48, 192
BATCH = 16


class LineOrientation(Protocol):
    """Gives, for each upright-cut grey line crop, the probability that its text is upside down."""

    def __call__(self, crops: Sequence[np.ndarray], /) -> list[float]: ...


def classifier_input(crop: np.ndarray) -> np.ndarray:
    """A grey ``H x W`` uint8 crop as the classifier's ``3 x 48 x 192`` float32 input: resized to
    height 48 (aspect kept, at most 192 wide), scaled to [-1, 1], zero-padded on the right."""
    height, width = crop.shape[:2]
    resized_width = max(1, min(INPUT_WIDTH, int(np.ceil(INPUT_HEIGHT * width / max(height, 1)))))
    resized = cv2.resize(crop, (resized_width, INPUT_HEIGHT), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((3, INPUT_HEIGHT, INPUT_WIDTH), np.float32)
    out[:, :, :resized_width] = resized.astype(np.float32) / 127.5 - 1.0
    return out


class LineFlipClassifier:
    """A :class:`LineOrientation` running the rapidocr wheel's 0/180 classifier in ONNX Runtime."""

    def __init__(self, model: str = CLASSIFIER_MODEL, threads: int | None = None, memory_arena: bool = True) -> None:
        import onnxruntime as ort

        self.model_path = locate_model(model)
        self.session = ort.InferenceSession(
            str(self.model_path), session_options(threads, memory_arena), providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, crops: Sequence[np.ndarray]) -> list[float]:
        probabilities: list[float] = []
        for start in range(0, len(crops), BATCH):
            batch = np.stack([classifier_input(crop) for crop in crops[start : start + BATCH]])
            (scores,) = self.session.run(None, {self.input_name: batch})
            probabilities.extend(float(p) for p in scores[:, 1])  # classes: 0 degrees, 180 degrees
        return probabilities
