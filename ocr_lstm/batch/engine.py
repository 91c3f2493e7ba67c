"""The local batch engine: every image under a folder, read chunk by chunk into a results file.

Rows are appended as each chunk finishes, so an interrupted run loses at most one
chunk, and a resumed run skips the images already written. An unreadable file gets
an ``error`` row and the run goes on. The stages (finding images, planning, reading
a chunk, writing rows) are plain functions, for other engines to reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from ocr_lstm.batch.rows import Row, RowFormat, RowWriter, done_paths, drop_partial_line
from ocr_lstm.preprocessing import ImageDecodeError, load_image
from ocr_lstm.recognizer import PreparedImage, Recognizer

if TYPE_CHECKING:
    import numpy as np

    from ocr_lstm.photo.pipeline import OCR

ChunkReader = Callable[[Path, list[Path]], Iterator[Row]]
"""Reads one chunk of paths under a folder into one row per path, in order."""

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pbm", ".pgm", ".ppm"}


@dataclass(frozen=True)
class BatchJob:
    """What to read, where the rows go, and how."""

    folder: Path
    output: Path
    fmt: RowFormat = "jsonl"
    resume: bool = False  # skip images already in the output and append
    chunk: int = 256  # images read per chunk, and rows flushed together


@dataclass(frozen=True)
class BatchPlan:
    """A job's images still to read; ``skipped`` counts the paths an earlier run wrote."""

    job: BatchJob
    images: list[Path]
    skipped: int


@dataclass(frozen=True)
class BatchSummary:
    read: int
    skipped: int
    unreadable: int


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` by suffix, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def plan_batch(job: BatchJob) -> BatchPlan:
    """The images of ``job`` still to read; on resume, first cuts a row an interruption left unfinished.

    Cheap and model-free, so a wrong folder fails before a model is loaded.
    """
    if not job.folder.is_dir():
        raise FileNotFoundError(f"not a folder: {job.folder}")
    if job.resume and job.output.is_file():
        drop_partial_line(job.output)  # before reading: a cut CSV row may hold a whole path
    skip = done_paths(job.output, job.fmt) if job.resume else set()
    images = [p for p in find_images(job.folder) if p.relative_to(job.folder).as_posix() not in skip]
    return BatchPlan(job, images, len(skip))


def read_chunk(recognizer: Recognizer, folder: Path, paths: list[Path]) -> Iterator[Row]:
    """One row per path, in order, the chunk's readable images recognized in one batched call."""
    prepared: list[tuple[int, PreparedImage]] = []
    rows: list[Row] = []
    for path in paths:
        row: Row = {"path": path.relative_to(folder).as_posix()}
        try:
            prepared.append((len(rows), recognizer.prepare(path)))
        except (ImageDecodeError, OSError) as exc:
            row.update(text=None, confidence=None, error=str(exc))
        rows.append(row)
    results = recognizer.recognize_prepared([p for _, p in prepared]) if prepared else []
    for (index, _), result in zip(prepared, results):
        rows[index].update(text=result.text, confidence=round(result.confidence, 4))
    yield from rows


def read_photo_chunk(ocr: OCR, folder: Path, paths: list[Path]) -> Iterator[Row]:
    """One row per photo, in order: ``path``, the page's ``text`` and the whole ``page``
    (blocks, lines, words with polygons); the chunk's lines share the recognizer's batches."""
    images: list[tuple[int, np.ndarray]] = []
    rows: list[Row] = []
    for path in paths:
        row: Row = {"path": path.relative_to(folder).as_posix()}
        try:
            images.append((len(rows), load_image(path, ocr.recognizer.preprocess.max_pixels)))
        except (ImageDecodeError, OSError) as exc:
            row.update(text=None, page=None, error=str(exc))
        rows.append(row)
    pages = ocr.read_images([image for _, image in images], [rows[i]["path"] for i, _ in images]) if images else []
    for (index, _), page in zip(images, pages):
        rows[index].update(text=page.text, page=page.export())
    yield from rows


def run_batch(plan: BatchPlan, read: ChunkReader) -> BatchSummary:
    """Read the planned images chunk by chunk with ``read`` (e.g. :func:`read_chunk` bound to a
    recognizer, or :func:`read_photo_chunk` to a photo pipeline), writing and flushing the rows."""
    job = plan.job
    job.output.parent.mkdir(parents=True, exist_ok=True)
    appending = job.resume and job.output.is_file() and job.output.stat().st_size > 0
    unreadable = 0
    with job.output.open("a" if appending else "w", newline="", encoding="utf-8") as stream:
        writer = RowWriter(stream, job.fmt, write_header=not appending)
        with tqdm(total=len(plan.images), desc="batch", unit="img") as bar:
            for start in range(0, len(plan.images), job.chunk):
                chunk = plan.images[start : start + job.chunk]
                for row in read(job.folder, chunk):
                    unreadable += "error" in row
                    writer.write(row)
                stream.flush()
                bar.update(len(chunk))
    return BatchSummary(read=len(plan.images), skipped=plan.skipped, unreadable=unreadable)
