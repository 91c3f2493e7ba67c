"""What the service's one micro-batcher carries to the model: an image's resized crops (a word image's one or
three turns, or one line of a photo), answered with each crop's frame log-probabilities, which the requests
decode themselves (:meth:`ocr_lstm.recognizer.Recognizer.image_log_probs`). So the lines of concurrent photos
share model calls with the word images, and the model is only ever used by the batcher's thread.
"""

from __future__ import annotations

from typing import Any

import anyio
import numpy as np

from ocr_lstm.predictors import LineReading, LineSteps
from service.batcher import MicroBatcher

BatchItem = tuple[np.ndarray, ...]  # an image's crops
BatchResult = list[np.ndarray]  # their frames' log-probabilities


async def read_lines(steps: LineSteps, batcher: MicroBatcher[BatchItem, BatchResult]) -> list[list[LineReading]]:
    """Run the photo pipeline's steps (:meth:`ocr_lstm.predictors.OCR.line_steps`): its own work (cutting the
    lines, the orientation classifier, decoding) in a worker thread, its crops through the batcher."""

    def step(frames: list[np.ndarray] | None) -> tuple[bool, Any]:
        try:
            return False, steps.send(frames)  # type: ignore[arg-type]  # None starts the steps
        except StopIteration as done:
            return True, done.value

    done, value = await anyio.to_thread.run_sync(step, None)
    while not done:
        frames = await batcher.submit([(crop,) for crop in value])
        done, value = await anyio.to_thread.run_sync(step, [f for (f,) in frames])
    return value
