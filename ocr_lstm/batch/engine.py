"""The local batch engine: every image under a folder, read chunk by chunk into a results file.

Rows are appended as each chunk finishes, in the planned order, so an interrupted run
loses at most the chunks still being read (a few seconds of work: up to 1,024 word crops, or
one photo), and a resumed run skips the images already written.
Chunks are read by a few worker threads at once: decoding files and running ONNX Runtime
both release the GIL, so one chunk decodes while another is in the model, and both cores
stay busy without a process per core. An unreadable file gets
an ``error`` row and the run goes on. Planning refuses what would lose or mix up
earlier rows (replacing them unasked, appending another format to them) and a folder
without images, before a model is loaded. The stages (finding images, planning, writing rows)
are plain functions, and a chunk is read by :mod:`ocr_lstm.batch.reading`, as on the Ray engine.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ocr_lstm.batch import crop_chunk
from ocr_lstm.batch.reading import RowImage, RowReader
from ocr_lstm.batch.rows import Row, RowFormat, RowWriter, done_paths, drop_partial_line, written_format
from ocr_lstm.preprocessing import IMAGE_SUFFIXES


@dataclass(frozen=True)
class BatchJob:
    """What to read, where the rows go, and how."""

    folder: Path
    output: Path
    fmt: RowFormat = "jsonl"
    resume: bool = False  # skip images already in the output and append
    chunk: int | None = None  # images read per chunk, and rows flushed together; None: crop_chunk's choice
    overwrite: bool = False  # replace an output that already holds rows (else planning refuses it)

    def __post_init__(self) -> None:
        if self.resume and self.overwrite:
            raise ValueError("--resume continues the output and --overwrite replaces it: choose one")


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


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`read_folder`, after ``written`` of the ``total`` planned rows were written
    (all of them are in the output: it is closed, so flushed, on the way out)."""

    def __init__(self, written: int, total: int) -> None:
        super().__init__(f"interrupted after {written} of {total} images")
        self.written, self.total = written, total


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` by suffix, in a stable order, following links to folders.

    Paths stay under ``folder``, through the links. Each real folder is read once, and through a link
    only when the tree without links does not reach it: a link into the tree adds nothing (and adding
    one renames no row), and a link to the folder or to an ancestor of it cannot loop.
    """
    root = Path(os.path.realpath(folder))
    seen: set[str] = set()
    tops: deque[Path] = deque([folder])  # the folder, then the links found while walking
    found: list[Path] = []
    while tops:
        top = tops.popleft()
        real = os.path.realpath(top)
        if real in seen or (root.is_relative_to(real) and real != str(root)):
            continue
        seen.add(real)
        found += _walk(top, seen, tops)
    return sorted(found)


def _walk(top: Path, seen: set[str], links: deque[Path]) -> Iterator[Path]:
    """The images under ``top`` without following links, which go on ``links`` to be walked later
    (after the whole tree without links, so that a real path wins over a path through a link)."""
    for base, dirs, files in os.walk(top):
        here = Path(base)
        kept = []
        for name in sorted(dirs):
            if (here / name).is_symlink():
                links.append(here / name)
            elif (real := os.path.realpath(here / name)) not in seen:
                seen.add(real)
                kept.append(name)
        dirs[:] = kept
        yield from (here / f for f in files if Path(f).suffix.lower() in IMAGE_SUFFIXES and (here / f).is_file())


def plan_batch(job: BatchJob) -> BatchPlan:
    """The images of ``job`` still to read; on resume, first cuts a row an interruption left unfinished.

    Cheap and model-free, so a wrong folder or output fails before a model is loaded, and before
    the output is touched.
    """
    if not job.folder.is_dir():
        raise FileNotFoundError(f"not a folder: {job.folder}")
    found = find_images(job.folder)
    if not found:
        suffixes = " ".join(sorted(IMAGE_SUFFIXES))
        raise FileNotFoundError(f"no images found under {job.folder} (searched recursively for {suffixes} files)")
    appending = check_output(job)
    if appending:
        drop_partial_line(job.output)  # before reading: a cut CSV row may hold a whole path
    skip = done_paths(job.output, job.fmt) if appending else set()
    images = [p for p in found if p.relative_to(job.folder).as_posix() not in skip]
    return BatchPlan(job, images, len(skip))


def check_output(job: BatchJob) -> bool:
    """Whether ``job`` appends to rows already in its output. Refuses what would lose or mix up those
    rows: replacing them unasked, or appending rows of another format."""
    if job.output.is_dir():
        raise IsADirectoryError(f"the output is a folder: {job.output} (name a file in it, e.g. "
                                f"{job.output / 'results.jsonl'})")
    if job.overwrite or not _holds_rows(job.output):
        return False
    if not job.resume:
        raise FileExistsError(f"{job.output} already holds results: add --resume to continue it, "
                              "or --overwrite to replace it")
    held = written_format(job.output)
    if held is None:
        raise ValueError(f"cannot resume {job.output}: it holds neither JSONL rows nor a results CSV "
                         "(use --overwrite to replace it)")
    if held != job.fmt:
        raise ValueError(f"cannot resume {job.output} as {job.fmt.upper()}: it holds {held.upper()} rows "
                         f"(resume with --format {held}, or use --overwrite to replace it)")
    return True


def _holds_rows(output: Path) -> bool:
    return output.is_file() and output.stat().st_size > 0


def read_folder(plan: BatchPlan, read: RowReader, workers: int = 1) -> BatchSummary:
    """Read the planned images chunk by chunk with ``read`` (:func:`ocr_lstm.batch.reading.crop_rows`
    bound to a recognizer, or ``photo_rows`` to a photo pipeline), writing and flushing the rows.

    ``workers`` chunks are read at once, each in a thread of its own (``read`` must allow that:
    the Recognizer and the photo pipeline do), and one more waits its turn; rows are written in
    the planned order as each chunk is done. Ctrl-C ends it with :class:`BatchInterrupted`,
    which says how many rows were written: every chunk finished by then, the ones that finished
    before an earlier, unfinished chunk included (after the others: a resumed run skips a written
    path wherever it stands).
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    job = plan.job
    job.output.parent.mkdir(parents=True, exist_ok=True)
    appending = job.resume and _holds_rows(job.output)
    size = job.chunk or crop_chunk(len(plan.images), workers)
    chunks = [plan.images[start : start + size] for start in range(0, len(plan.images), size)]
    written = unreadable = 0
    pool = ThreadPoolExecutor(workers, thread_name_prefix="batch")
    in_flight: deque[Future[list[Row]]] = deque()
    try:
        with job.output.open("a" if appending else "w", newline="", encoding="utf-8") as stream:
            writer = RowWriter(stream, job.fmt, write_header=not appending)

            def write(rows: list[Row]) -> None:
                nonlocal written, unreadable
                for row in rows:
                    writer.write(row)
                written += len(rows)
                unreadable += sum("error" in row for row in rows)
                stream.flush()

            with tqdm(total=len(plan.images), desc="batch", unit="img") as bar:
                try:
                    for index, chunk in enumerate(chunks):
                        in_flight.append(pool.submit(_read_rows, read, job.folder, chunk))
                        last = index + 1 == len(chunks)
                        # Each worker busy and one chunk queued, then write the oldest; at the end, all.
                        while in_flight and (len(in_flight) > workers or last):
                            rows = in_flight[0].result()
                            in_flight.popleft()
                            write(rows)
                            bar.update(len(rows))
                except KeyboardInterrupt:
                    for future in in_flight:  # what finished while an earlier chunk was still being read
                        if future.done() and not future.cancelled() and future.exception() is None:
                            write(future.result())
                    raise
    except KeyboardInterrupt as exc:
        raise BatchInterrupted(written, len(plan.images)) from exc
    finally:
        # Chunks not yet started are dropped; one already in a worker ends within a chunk's time.
        pool.shutdown(wait=False, cancel_futures=True)
    return BatchSummary(read=written, skipped=plan.skipped, unreadable=unreadable)


def _read_rows(read: RowReader, folder: Path, paths: list[Path]) -> list[Row]:
    """A chunk's rows, read in the worker's thread; a row's path is relative to the folder."""
    return read([RowImage(path.relative_to(folder).as_posix(), path) for path in paths])
