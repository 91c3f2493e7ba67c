"""What each photo-pipeline option is worth: the same photos read with the defaults and with
variants of them, scored end to end, with the error table of each.

    python benchmarks/photo_options.py [--data ../shared/data/ic15_scenes] [--limit N] [--threads 1]
        [--variant "max_side=960" --variant "min_confidence=0 short_word_confidence=0" ...]

A variant is a space-separated list of ``key=value``: ``max_side``, ``min_side``,
``box_threshold``, ``unclip_ratio`` and ``binary_threshold`` go to :class:`~ocr_lstm.detection.DetectorConfig`,
``model`` names the recognizer's checkpoint, ``orientation=none`` reads no line turned, and any
other key is a field of :class:`~ocr_lstm.photo.config.OCRConfig`. Without ``--variant`` it
measures the variants docs/photos.md gives (each default taken away in turn). Every variant
reads every photo through the public constructors (``OCR(DBDetector(...), Recognizer(...),
OCRConfig(...))``) in this process, one after the other. Skips when the set is absent.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ic15_scenes"
DETECTOR_KEYS = ("max_side", "min_side", "box_threshold", "unclip_ratio", "binary_threshold")
DEFAULT_VARIANTS = (
    "",  # the defaults
    "max_side=960",
    "word_height=1.0",
    "orientation=none",
    "min_confidence=0 short_word_confidence=0",
    "short_word_confidence=0",
)


def parse_variant(text: str) -> dict[str, Any]:
    """``"max_side=960 word_height=1.0"`` as ``{"max_side": 960, "word_height": 1.0}`` (numbers where
    the value reads as one, else the string)."""
    values: dict[str, Any] = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"variant item {item!r} is not key=value")
        try:
            values[key] = int(value)
        except ValueError:
            try:
                values[key] = float(value)
            except ValueError:
                values[key] = value
    return values


def build_pipeline(variant: dict[str, Any], threads: int) -> Any:
    """The photo pipeline a variant asks for, from the public constructors."""
    from ocr_lstm.detection import DBDetector, DetectorConfig
    from ocr_lstm.photo.config import OCRConfig
    from ocr_lstm.photo.pipeline import OCR
    from ocr_lstm.recognizer import Recognizer

    options = dict(variant)
    detection = {key: options.pop(key) for key in DETECTOR_KEYS if key in options}
    if "max_side" in detection:
        detection.setdefault("min_side", min(DetectorConfig.min_side, detection["max_side"]))
    model = options.pop("model", "default")
    orientation = options.pop("orientation", None)
    if orientation not in (None, "none"):
        raise ValueError(f"orientation is the default or none, got {orientation!r}")
    known = {field.name for field in dataclasses.fields(OCRConfig)}
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
    return OCR(DBDetector(DetectorConfig(**detection), threads=threads), Recognizer(model, threads=threads),
               OCRConfig(**options), False if orientation == "none" else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED, help="photo folder (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N photos")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", action="append", default=None, help="key=value ... (repeatable)")
    args = parser.parse_args(argv)
    if not (args.data / "gt").is_dir():
        print(f"skipped: {args.data} has no gt/ (../shared is not here)")
        return 0
    from ocr_lstm.evaluation.photos import evaluate_photos
    from ocr_lstm.evaluation.scenes import load_scene_folder

    photos = load_scene_folder(args.data)[: args.limit]
    variants = args.variant if args.variant is not None else list(DEFAULT_VARIANTS)
    print(f"{args.data.name}: {len(photos)} photos, {args.threads} thread(s)")
    tables = {}
    for text in variants:
        report = evaluate_photos(build_pipeline(parse_variant(text), args.threads), photos, progress=False)
        detection, e2e = report.scores.detection, report.scores.end_to_end
        name = text or "defaults"
        tables[name] = report.errors
        print(f"{name:<45} det P/R/F {100 * detection.precision:5.1f} {100 * detection.recall:5.1f} "
              f"{100 * detection.f_score:5.1f}  e2e P/R/F {100 * e2e.precision:5.1f} {100 * e2e.recall:5.1f} "
              f"{100 * e2e.f_score:5.1f}  {report.seconds_per_photo:.2f} s/photo", flush=True)
    print("\nerror table per variant (ocr_lstm.evaluation.scene_errors):")
    names = list(tables)
    for row in next(iter(tables.values()), {}):
        print(f"{row:<24}" + "".join(f"{tables[name][row]:>8}" for name in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
