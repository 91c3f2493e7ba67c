"""``ocr-lstm synth --count N --output DIR``: write synthetic word images in the folder format."""

from __future__ import annotations

import argparse
from pathlib import Path

from ocr_lstm.commands.argtypes import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ocr_lstm.synth.generator import SynthConfig

    parser.add_argument("--count", type=positive_int, required=True, help="number of images")
    parser.add_argument("--output", type=Path, required=True, help="folder for images/ and labels.tsv")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same images (default: %(default)s)")
    parser.add_argument("--difficulty", type=float, default=SynthConfig.difficulty,
                        help="0 clean .. 1 heavily degraded (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from ocr_lstm.synth.folder import write_synthetic_folder

    if not 0.0 <= args.difficulty <= 1.0:
        raise ValueError("--difficulty must lie in [0, 1]")
    label_file = write_synthetic_folder(args.output, args.count, args.seed, args.difficulty)
    print(f"{args.count} images -> {label_file}")
    return 0
