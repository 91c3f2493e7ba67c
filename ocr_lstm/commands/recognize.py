"""``ocr-lstm recognize IMAGE...``: print each image's text and confidence."""

from __future__ import annotations

import argparse
import json
import sys

from ocr_lstm.commands.argtypes import image_path
from ocr_lstm.commands.common import add_model_arguments, recognizer_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", type=image_path("--output results.jsonl"),
                        help="image files of cropped words")
    parser.add_argument("--json", action="store_true", help="one JSON object per image, with per-character confidences")
    add_model_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ocr_lstm.preprocessing import ImageDecodeError

    recognizer = recognizer_from_args(args)
    failures = 0
    for path in args.images:
        try:
            result = recognizer.recognize(path)[0]
        except ImageDecodeError as exc:
            failures += 1
            print(f"error: {path}: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"path": path, **result.as_dict()}, ensure_ascii=False))
        else:
            print(f"{path}\t{result.text}\t{result.confidence:.3f}")
    return 1 if failures else 0
