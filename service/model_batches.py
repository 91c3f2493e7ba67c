"""What the service's one micro-batcher carries to the model: an image's resized crops (a word image's one or
three turns, or one line of a photo), answered with each crop's frame log-probabilities, which the requests
decode themselves (:meth:`ocr_lstm.recognizer.Recognizer.image_log_probs`). So the lines of concurrent photos
share model calls with the word images, and the model is only ever used by the batcher's thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio.from_thread
import numpy as np

from ocr_lstm.predictors import CTCDecoder, PreprocessConfig, Recognizer

BatchItem = tuple[np.ndarray, ...]  # an image's crops
BatchResult = list[np.ndarray]  # their frames' log-probabilities


class BatchedLineReader:
    """The photo pipeline's recognizer inside the service: called from a worker thread, it
    submits its line crops to the event loop's batcher and waits for their frames."""

    def __init__(
        self, recognizer: Recognizer, submit: Callable[[list[BatchItem]], Awaitable[list[BatchResult]]]
    ) -> None:
        self.preprocess: PreprocessConfig = recognizer.preprocess
        self.decoder: CTCDecoder = recognizer.decoder
        self._submit = submit

    def frame_log_probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [frames for (frames,) in anyio.from_thread.run(self._submit, [(crop,) for crop in crops])]
