"""The stages of the Ray engine as plain functions: bytes to a decoded image (on CPU tasks),
decoded images to the local engine's rows (on the actors), and how an actor builds its model.

They mirror :func:`ocr_lstm.batch.engine.read_chunk` and ``read_photo_chunk``, which take
paths; here the files arrive as bytes read by Ray, possibly from another machine, and the
decoded images travel between the two stages as ``.npy`` bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ocr_lstm.batch.rows import Row
from ocr_lstm.checkpoint import DEFAULT_MODEL, read_checkpoint_info
from ocr_lstm.options import RecognizerOptions
from ocr_lstm.photo.config import OCRConfig, confidence_floor
from ocr_lstm.preprocessing import load_image, to_grayscale
from ocr_lstm.recognizer import Recognizer

if TYPE_CHECKING:
    from ocr_lstm.photo.pipeline import OCR

RowReader = Callable[[Sequence["DecodedFile"]], list[Row]]
"""Reads decoded images into one row per image, in order."""


@dataclass(frozen=True)
class DecodedFile:
    """One file after the CPU stage: its path relative to the folder, and its image or why it has none."""

    path: str
    image: np.ndarray | None
    error: str | None = None


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
            return partial(read_crops, recognizer)
        from ocr_lstm.detection import DBDetector
        from ocr_lstm.photo.pipeline import OCR

        config = confidence_floor(OCRConfig(), self.min_confidence)
        return partial(read_photos, OCR(DBDetector(threads=self.options.threads), recognizer, config))


def decode_image(data: bytes, max_pixels: int, gray: bool) -> np.ndarray:
    """Our decoder and its limits (:func:`ocr_lstm.preprocessing.load_image`), grayscale for crops:
    a third of the bytes to ship, and the recognizer's first step anyway."""
    image = load_image(data, max_pixels)
    return to_grayscale(image) if gray else image


def decode_file(path: str, data: bytes, max_pixels: int, gray: bool) -> DecodedFile:
    """A file's bytes decoded, or its error; never raises, so one bad file cannot fail the job."""
    try:
        return DecodedFile(path, decode_image(data, max_pixels, gray))
    # A decoder bug on one file in a million would otherwise fail its task through all of
    # Ray's retries and then the whole job; it becomes that file's error row instead.
    except Exception as exc:  # noqa: BLE001
        return DecodedFile(path, None, name_stream(str(exc), path))


def name_stream(message: str, path: str) -> str:
    """PIL names a stream by its memory address; name the file instead, so reruns write the same error."""
    return re.sub(r"<_io\.BytesIO object at 0x[0-9a-f]+>", repr(path), message)


def pack(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, image, allow_pickle=False)
    return buffer.getvalue()


def unpack(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def error_row(item: DecodedFile, photos: bool) -> Row:
    """An unreadable file's row, as the local engine writes it."""
    return {"path": item.path, "text": None, "page" if photos else "confidence": None, "error": item.error}


def read_crops(recognizer: Recognizer, items: Sequence[DecodedFile]) -> list[Row]:
    """One row per item, in order, the readable crops recognized in one batched call."""
    rows: list[Row] = [error_row(item, photos=False) if item.image is None else {"path": item.path} for item in items]
    readable = [(row, item.image) for row, item in zip(rows, items) if item.image is not None]
    results = recognizer.recognize_prepared([recognizer.prepare(image) for _, image in readable]) if readable else []
    for (row, _), result in zip(readable, results):
        row.update(text=result.text, confidence=round(result.confidence, 4))
    return rows


def read_photos(ocr: OCR, items: Sequence[DecodedFile]) -> list[Row]:
    """One row per photo, in order: ``path``, the page's ``text`` and the whole ``page``;
    the lines of all the batch's photos share the recognizer's batches."""
    rows: list[Row] = [error_row(item, photos=True) if item.image is None else {"path": item.path} for item in items]
    readable = [(row, item.image) for row, item in zip(rows, items) if item.image is not None]
    pages = ocr.read_images([image for _, image in readable], [row["path"] for row, _ in readable]) if readable else []
    for (row, _), page in zip(readable, pages):
        row.update(text=page.text, page=page.export())
    return rows
