"""A chunk of images read into rows: the one reading that every engine adapts.

The local engine hands it files by path from its worker threads, the Ray actors images that CPU
tasks decoded elsewhere (:mod:`ray_batch.stages`); either way an image that cannot be read gets an
error row, the others are read in one batched call (a chunk's photos share the recognizer's
batches), and the rows are the same. This is also the one place where a reading becomes a row and a
page its JSON (:meth:`ocr_lstm.elements.Page.export`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ocr_lstm.batch.rows import Row
from ocr_lstm.preprocessing import ImageDecodeError, ImageInput

if TYPE_CHECKING:
    from ocr_lstm.elements import Page, Recognition
    from ocr_lstm.photo.pipeline import OCR
    from ocr_lstm.recognition.recognizer import Recognizer

T = TypeVar("T")


@dataclass(frozen=True)
class RowImage:
    """One image to read into a row: the row's ``path`` (relative to the folder, posix style), and the
    ``image`` (a file, its bytes or its decoded pixels) or, when it has none, the ``error`` that says why."""

    path: str
    image: ImageInput | None
    error: str | None = None


RowReader = Callable[[Sequence[RowImage]], list[Row]]
"""Reads images into one row per image, in order: :func:`crop_rows` or :func:`photo_rows` bound to a model."""


def crop_rows(recognizer: Recognizer, items: Sequence[RowImage]) -> list[Row]:
    """One row per word image, in order: ``path``, ``text`` and ``confidence``, or an ``error``."""
    rows, readable = _readable(items, recognizer.prepare, photos=False)
    results = recognizer.recognize_prepared([prepared for _, prepared in readable]) if readable else []
    for (row, _), result in zip(readable, results):
        row.update(crop_fields(result))
    return rows


def photo_rows(ocr: OCR, items: Sequence[RowImage]) -> list[Row]:
    """One row per photo, in order: ``path``, the page's ``text`` and the whole ``page`` (blocks, lines,
    words with polygons in the photo's pixels), or an ``error``."""
    from ocr_lstm.photo.pipeline import to_photo_pixels

    rows, readable = _readable(items, ocr.decode, photos=True)
    images = [photo.image for _, photo in readable]
    pages = ocr.read_images(images, [row["path"] for row, _ in readable]) if readable else []
    for (row, photo), page in zip(readable, pages):
        row.update(page_fields(to_photo_pixels(page, photo)))
    return rows


def crop_fields(recognition: Recognition) -> Row:
    return {"text": recognition.text, "confidence": round(recognition.confidence, 4)}


def page_fields(page: Page) -> Row:
    return {"text": page.text, "page": page.export()}


def _readable(
    items: Sequence[RowImage], decode: Callable[[ImageInput], T], photos: bool
) -> tuple[list[Row], list[tuple[Row, T]]]:
    """A row per item, and the decoded images with the rows they fill; an item without an image, or
    whose image does not decode, has its error row already."""
    rows: list[Row] = []
    readable: list[tuple[Row, T]] = []
    for item in items:
        row: Row = {"path": item.path}
        error = item.error
        if item.image is not None:
            try:
                readable.append((row, decode(item.image)))
            except (ImageDecodeError, OSError) as exc:
                error = str(exc)
        if error is not None or item.image is None:
            row.update({"text": None, "page" if photos else "confidence": None, "error": error})
        rows.append(row)
    return rows, readable
