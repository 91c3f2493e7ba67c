"""``ocr-lstm lmdb FOLDER OUTPUT``: convert a labelled folder or label file to LMDB."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, help="folder with labels.tsv, or a label file")
    parser.add_argument("output", type=Path, help="LMDB folder to create")


def run(args: argparse.Namespace) -> int:
    from ocr_lstm.data.datasets import folder_to_lmdb

    count = folder_to_lmdb(args.source, args.output)
    print(f"{count} samples -> {args.output}")
    return 0
