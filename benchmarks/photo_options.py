"""What each photo-pipeline option is worth: the same photos read with the defaults and with
variants of them, scored end to end, with the error table of each.

    python benchmarks/photo_options.py [--data ../shared/data/ic15_scenes] [--limit N] [--threads 1]
        [--variant "max_side=960" --variant "min_confidence=0 short_word_confidence=0" ...]

A variant is a space-separated list of ``key=value``: ``max_side``, ``min_side``,
``box_threshold``, ``unclip_ratio`` and ``binary_threshold`` go to :class:`~ocr_lstm.detection.DetectorConfig`,
``model`` names the recognizer's checkpoint, ``orientation=none`` reads no line turned, and any
other key is a field of :class:`~ocr_lstm.photo.config.OCRConfig`. Without ``--variant`` it
measures the variants docs/photos.md gives (each default taken away in turn). Each photo is
decoded once and its lines detected once per detector setting; every variant then reads those
lines through the public constructors (``OCR(detector, Recognizer(...), OCRConfig(...))``,
the detector answering the lines found). Accuracy only: ``benchmarks/scenes.py`` times the
whole pipeline. Skips when the set is absent.
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


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    detection: dict[str, Any]  # DetectorConfig fields
    model: str
    config: Any  # OCRConfig
    orientation: bool


def build_variant(text: str) -> Variant:
    """What a variant's ``key=value`` list asks of each part; ValueError for an unknown key."""
    from ocr_lstm.predictors import OCRConfig

    options = parse_variant(text)
    detection = {key: options.pop(key) for key in DETECTOR_KEYS if key in options}
    model = str(options.pop("model", "default"))
    orientation = options.pop("orientation", "classifier")
    if orientation not in ("classifier", "none"):
        raise ValueError(f"orientation is classifier (the default) or none, got {orientation!r}")
    known = {field.name for field in dataclasses.fields(OCRConfig)}
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
    return Variant(text or "defaults", detection, model, OCRConfig(**options), orientation == "classifier")


class FoundLines:
    """A detector answering the lines found before (one detection serves every variant)."""

    def __init__(self, lines: list[Any]) -> None:
        self.lines = lines

    def __call__(self, image: Any, /) -> list[Any]:
        return self.lines


def read_variants(variants: list[Variant], photos: list[Any], threads: int) -> dict[str, Any]:
    """Each variant's PhotoSetReport-like scores: ``{name: (SceneScores, errors)}``."""
    from ocr_lstm.evaluation.photos import page_detections
    from ocr_lstm.evaluation.scene_errors import error_table
    from ocr_lstm.evaluation.scenes import score_photos
    from ocr_lstm.io import load_image
    from ocr_lstm.predictors import OCR, DBDetector, DetectorConfig, LineFlipClassifier, Recognizer

    detectors = {repr(sorted(v.detection.items())): DBDetector(DetectorConfig(**v.detection), threads=threads)
                 for v in variants}
    recognizers = {v.model: Recognizer(v.model, threads=threads) for v in variants}
    classifier = LineFlipClassifier(threads=threads)
    read: dict[str, list[Any]] = {v.name: [] for v in variants}
    for photo in photos:
        image = load_image(photo.image_path)
        found = {key: detector(image) for key, detector in detectors.items()}
        for v in variants:
            lines = found[repr(sorted(v.detection.items()))]
            ocr = OCR(FoundLines(lines), recognizers[v.model], v.config, classifier if v.orientation else False)
            page = ocr.read_images([image], [str(photo.image_path)])[0]
            read[v.name].append((photo.ground_truth, page_detections(page)))
    return {name: (score_photos(pairs), error_table(pairs)) for name, pairs in read.items()}


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
    from ocr_lstm.evaluation.scenes import load_scene_folder

    photos = load_scene_folder(args.data)[: args.limit]
    variants = [build_variant(text) for text in (args.variant if args.variant is not None else DEFAULT_VARIANTS)]
    print(f"{args.data.name}: {len(photos)} photos, {args.threads} thread(s)")
    results = read_variants(variants, photos, args.threads)
    tables = {}
    for name, (scores, errors) in results.items():
        detection, e2e = scores.detection, scores.end_to_end
        tables[name] = errors
        print(f"{name:<45} det P/R/F {100 * detection.precision:5.1f} {100 * detection.recall:5.1f} "
              f"{100 * detection.f_score:5.1f}  e2e P/R/F {100 * e2e.precision:5.1f} {100 * e2e.recall:5.1f} "
              f"{100 * e2e.f_score:5.1f}")
    print("\nerror table per variant (ocr_lstm.evaluation.scene_errors):")
    names = list(tables)
    for row in next(iter(tables.values()), {}):
        print(f"{row:<24}" + "".join(f"{tables[name][row]:>8}" for name in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
