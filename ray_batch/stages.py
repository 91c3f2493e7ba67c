"""The stages of the Ray engine as plain functions: bytes to a decoded image (on CPU tasks), and
how an actor builds the reader of those images into rows, the local engine's own
(:mod:`ocr_lstm.batch.reading`). The files arrive as bytes read by Ray, possibly from another
machine, and the decoded images travel between the two stages as ``.npy`` bytes.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ocr_lstm.batch.reading import RowImage, RowReader, crop_rows, photo_rows
from ocr_lstm.io import load_image, to_grayscale
from ocr_lstm.predictors import (
    DEFAULT_MODEL,
    OCRConfig,
    Recognizer,
    RecognizerOptions,
    confidence_floor,
    read_checkpoint_info,
)

if TYPE_CHECKING:
    pass

@dataclass(frozen=True)
class ReaderSpec:
    """What each actor builds once: ``Recognizer.from_options(model, options)``, inside
    ``OCR(DBDetector(options.threads), recognizer)`` with ``photos``, keeping words of at least
    ``min_confidence``.

    A spec, not a built model, travels to the actors: each node loads the weights itself,
    so ``model`` must be a bundled name or a path that every node can read.
    """

    model: str | Path = DEFAULT_MODEL
    options: RecognizerOptions = field(default_factory=RecognizerOptions)
    photos: bool = False
    min_confidence: float = OCRConfig.min_confidence  # photos: words below it are left out (0: every word)

    def max_pixels(self) -> int:
        """The checkpoint's decompression-bomb limit, from what it holds (a bad model fails here, early)."""
        return read_checkpoint_info(self.model).preprocess.max_pixels

    def build(self) -> RowReader:
        recognizer = Recognizer.from_options(self.model, self.options)
        if not self.photos:
            return partial(crop_rows, recognizer)
        from ocr_lstm.predictors import OCR, DBDetector

        config = confidence_floor(OCRConfig(), self.min_confidence)
        return partial(photo_rows, OCR(DBDetector(threads=self.options.threads), recognizer, config))


def decode_image(data: bytes, max_pixels: int, gray: bool) -> np.ndarray:
    """Our decoder and its limits (:func:`ocr_lstm.preprocessing.load_image`), grayscale for crops:
    a third of the bytes to ship, and the recognizer's first step anyway."""
    image = load_image(data, max_pixels)
    return to_grayscale(image) if gray else image


def decode_file(path: str, data: bytes, max_pixels: int, gray: bool) -> RowImage:
    """A file's bytes decoded, or its error; never raises, so one bad file cannot fail the job."""
    try:
        return RowImage(path, decode_image(data, max_pixels, gray))
    # A decoder bug on one file in a million would otherwise fail its task through all of
    # Ray's retries and then the whole job; it becomes that file's error row instead.
    except Exception as exc:  # noqa: BLE001
        return RowImage(path, None, name_stream(str(exc), path))


def name_stream(message: str, path: str) -> str:
    """PIL names a stream by its memory address; name the file instead, so reruns write the same error."""
    return re.sub(r"<_io\.BytesIO object at 0x[0-9a-f]+>", repr(path), message)


def pack(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, image, allow_pickle=False)
    return buffer.getvalue()


def unpack(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)
