"""What the service's one micro-batcher carries to the model: word images, read whole, and the photo
pipeline's line crops, answered with their frames; so the lines of concurrent requests share model
calls with the word images, and the model is only ever used by the batcher's thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio.from_thread
import numpy as np

from ocr_lstm.decoding import CTCDecoder
from ocr_lstm.elements import Recognition
from ocr_lstm.preprocessing import PreprocessConfig
from ocr_lstm.recognizer import PreparedImage, Recognizer


@dataclass(frozen=True)
class LineCrop:
    """A text line cut from a photo, resized for the model: the batcher answers it with its
    (T, C) frame log-probabilities rather than a decoded reading."""

    crop: np.ndarray


BatchItem = PreparedImage | LineCrop
BatchResult = Recognition | np.ndarray


def read_model_batch(recognizer: Recognizer, items: list[BatchItem]) -> list[BatchResult]:
    """One batch of the micro-batcher: word images read whole, line crops to their frames."""
    images = [i for i, item in enumerate(items) if isinstance(item, PreparedImage)]
    lines = [i for i, item in enumerate(items) if isinstance(item, LineCrop)]
    results: list[BatchResult | None] = [None] * len(items)
    if images:
        prepared = [items[i] for i in images]
        for i, recognition in zip(images, recognizer.recognize_prepared(prepared)):  # type: ignore[arg-type]
            results[i] = recognition
    if lines:
        crops = [items[i].crop for i in lines]  # type: ignore[union-attr]
        for i, log_probs in zip(lines, recognizer.frame_log_probs(crops)):
            results[i] = log_probs
    return [r for r in results if r is not None]


class BatchedLineReader:
    """The photo pipeline's recognizer inside the service: called from a worker thread, it
    submits its crops to the event loop's batcher and waits for their frames."""

    def __init__(
        self, recognizer: Recognizer, submit: Callable[[list[BatchItem]], Awaitable[list[BatchResult]]]
    ) -> None:
        self.preprocess: PreprocessConfig = recognizer.preprocess
        self.decoder: CTCDecoder = recognizer.decoder
        self._submit = submit

    def frame_log_probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        results = anyio.from_thread.run(self._submit, [LineCrop(c) for c in crops])
        return [r for r in results if isinstance(r, np.ndarray)]

