"""``ocr-lstm batch FOLDER --output results.jsonl``: read a whole folder, recursively (see :mod:`ocr_lstm.batch`)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ocr_lstm.batch import CROP_CHUNK, MIN_CROP_CHUNK, PHOTO_CHUNK
from ocr_lstm.commands.argtypes import positive_int
from ocr_lstm.commands.common import add_model_arguments, add_photo_arguments, ocr_from_args, options_from_args

if TYPE_CHECKING:
    from ocr_lstm.batch.reading import RowReader


def workers(args: argparse.Namespace) -> int:
    """Chunks read at once: one per thread asked for (``--threads``, default one per core), each
    running the model on one thread, where ONNX Runtime runs it on the CPU. Whole chunks side by
    side kept both cores busier than one chunk on two intra-op threads, since a chunk also
    decodes files and CTC output (docs/performance.md). PyTorch reads one chunk at a time."""
    from ocr_lstm.device import device_name
    from ocr_lstm.recognition.runtime.backend import resolve_backend

    if resolve_backend(args.backend, device_name(args.device)) != "onnx":
        return 1
    return args.threads or os.cpu_count() or 1


def _reader(args: argparse.Namespace, chunk_workers: int) -> RowReader:
    from ocr_lstm.batch.reading import crop_rows, photo_rows
    from ocr_lstm.recognition.recognizer import Recognizer

    options = options_from_args(args)
    if chunk_workers > 1:
        options = dataclasses.replace(options, threads=1)
    recognizer = Recognizer.from_options(args.model, options)
    if not args.photos:
        return partial(crop_rows, recognizer)
    args = argparse.Namespace(**{**vars(args), "threads": options.threads})
    return partial(photo_rows, ocr_from_args(args, recognizer))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="folder searched recursively for images")
    parser.add_argument("--output", "-o", type=Path, required=True, help="results file (.jsonl, or .csv)")
    parser.add_argument("--format", choices=["jsonl", "csv"], default=None,
                        help="output format (default: from the output's suffix, else jsonl)")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true",
                          help="continue an output that already holds rows: skip their images and append")
    existing.add_argument("--overwrite", action="store_true",
                          help="replace an output that already holds rows (without either, such an output is refused)")
    parser.add_argument("--photos", action="store_true",
                        help="the images are whole photos: detect their text and write one page per row (JSONL: "
                        "path, text, page with blocks, lines and words with polygons)")
    parser.add_argument("--chunk", type=positive_int, default=None,
                        help=f"images read per chunk, and rows written together (default: a quarter of a "
                        f"worker's share, {MIN_CROP_CHUNK} to {CROP_CHUNK}, or {PHOTO_CHUNK} with --photos)")
    add_photo_arguments(parser)
    add_model_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ocr_lstm.batch.engine import BatchInterrupted, BatchJob, plan_batch, read_folder
    from ocr_lstm.batch.rows import output_format

    fmt = args.format or output_format(args.output)
    if args.photos and fmt != "jsonl":
        raise ValueError("--photos writes a page per row, which only JSONL holds: use --output NAME.jsonl")
    chunk = args.chunk or (PHOTO_CHUNK if args.photos else None)
    job = BatchJob(args.folder, args.output, fmt, args.resume, chunk, args.overwrite)
    plan = plan_batch(job)  # a wrong folder or output fails at once, before the model loads
    try:
        chunk_workers = workers(args)
        summary = read_folder(plan, _reader(args, chunk_workers), chunk_workers)
    except BatchInterrupted as stop:
        again = "instead of --overwrite " if args.overwrite else ""
        print(f"{stop}; run the same command with --resume {again}to continue", file=sys.stderr)
        return 130
    tqdm.write(f"{summary.read} images read ({summary.skipped} skipped as done), {summary.unreadable} unreadable "
               f"-> {args.output}")
    return 0
