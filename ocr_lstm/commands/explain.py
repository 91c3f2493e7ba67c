"""``ocr-lstm explain IMAGE --output explain.png``: what the LSTM's gates do over an image."""

from __future__ import annotations

import argparse
from pathlib import Path

from ocr_lstm.commands.argtypes import image_path
from ocr_lstm.commands.common import BATCHING, add_model_arguments, recognizer_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", metavar="IMAGE", type=image_path("--output results.jsonl"),
                        help="image of a cropped word")
    parser.add_argument("--output", "-o", type=Path, default=Path("explain.png"),
                        help="PNG to write (default: %(default)s)")
    add_model_arguments(parser, leave_out=BATCHING)  # one image: nothing to batch


def run(args: argparse.Namespace) -> int:
    from ocr_lstm.recognition.explain import explain_image

    explanation = explain_image(recognizer_from_args(args), args.image)
    args.output.write_bytes(explanation.png)
    print(f"{explanation.text}\t{explanation.confidence:.3f}\t-> {args.output}")
    return 0
