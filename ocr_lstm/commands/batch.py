"""``ocr-lstm batch FOLDER --output results.jsonl``: read a whole folder, recursively.

Results are appended as each chunk finishes, so an interrupted run loses at
most one chunk, and ``--resume`` continues where it stopped. An unreadable
file gets an ``error`` field and the run goes on.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from ocr_lstm.commands.argtypes import positive_int
from ocr_lstm.commands.common import add_model_arguments, recognizer_from_args
from ocr_lstm.preprocessing import ImageDecodeError
from ocr_lstm.recognizer import PreparedImage, Recognizer

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pbm", ".pgm", ".ppm"}
CSV_FIELDS = ["path", "text", "confidence", "error"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="folder searched recursively for images")
    parser.add_argument("--output", "-o", type=Path, required=True, help="results file (.jsonl, or .csv)")
    parser.add_argument("--format", choices=["jsonl", "csv"], default=None,
                        help="output format (default: from the output's suffix, else jsonl)")
    parser.add_argument("--resume", action="store_true", help="skip images already in the output and append")
    parser.add_argument("--chunk", type=positive_int, default=256, help="images read per chunk (default: %(default)s)")
    add_model_arguments(parser)


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` by suffix, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def done_paths(output: Path, fmt: str) -> set[str]:
    """Relative paths already in an earlier output."""
    if not output.is_file():
        return set()
    with output.open(newline="", encoding="utf-8") as f:
        if fmt == "csv":
            return {row["path"] for row in csv.DictReader(f) if row.get("path")}
        paths = set()
        for line in f:
            try:
                paths.add(json.loads(line)["path"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut short by an interruption is simply redone
        return paths


def drop_partial_line(output: Path) -> None:
    """Cut a last line left unfinished by an interruption, so appended rows start on a line of their own."""
    data = output.read_bytes()
    if data and not data.endswith(b"\n"):
        output.write_bytes(data[: data.rfind(b"\n") + 1])


def read_chunk(recognizer: Recognizer, folder: Path, paths: list[Path]) -> Iterator[dict[str, Any]]:
    prepared: list[tuple[int, PreparedImage]] = []
    rows: list[dict[str, Any]] = []
    for path in paths:
        row: dict[str, Any] = {"path": path.relative_to(folder).as_posix()}
        try:
            prepared.append((len(rows), recognizer.prepare(path)))
        except (ImageDecodeError, OSError) as exc:
            row.update(text=None, confidence=None, error=str(exc))
        rows.append(row)
    results = recognizer.recognize_prepared([p for _, p in prepared]) if prepared else []
    for (index, _), result in zip(prepared, results):
        rows[index].update(text=result.text, confidence=round(result.confidence, 4))
    yield from rows


class _Writer:
    def __init__(self, stream: TextIO, fmt: str, write_header: bool) -> None:
        self.stream, self.fmt = stream, fmt
        self.csv = csv.DictWriter(stream, CSV_FIELDS, extrasaction="ignore") if fmt == "csv" else None
        if self.csv is not None and write_header:
            self.csv.writeheader()

    def write(self, row: dict[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerow(row)
        else:
            self.stream.write(json.dumps(row, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    fmt = args.format or ("csv" if args.output.suffix.lower() == ".csv" else "jsonl")
    if args.resume and args.output.is_file():
        drop_partial_line(args.output)  # before reading: a cut CSV row may hold a whole path
    skip = done_paths(args.output, fmt) if args.resume else set()
    images = [p for p in find_images(folder) if p.relative_to(folder).as_posix() not in skip]
    recognizer = recognizer_from_args(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    appending = args.resume and args.output.is_file() and args.output.stat().st_size > 0
    errors = 0
    with args.output.open("a" if appending else "w", newline="", encoding="utf-8") as stream:
        writer = _Writer(stream, fmt, write_header=not appending)
        with tqdm(total=len(images), desc="batch", unit="img") as bar:
            for start in range(0, len(images), args.chunk):
                chunk = images[start : start + args.chunk]
                for row in read_chunk(recognizer, folder, chunk):
                    errors += "error" in row
                    writer.write(row)
                stream.flush()
                bar.update(len(chunk))
    tqdm.write(f"{len(images)} images read ({len(skip)} skipped as done), {errors} unreadable -> {args.output}")
    return 0
