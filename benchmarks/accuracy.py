"""Accuracy of a model on the real sets in ../shared/data (skipped when absent).

    python benchmarks/accuracy.py [--model default] [--json results.json] [--failures 8] [--no-word-prior]

Reports, per set, word accuracy under the standard protocol, case-sensitive
accuracy, CER and crops/s; ic13 also on its 1015 and 857 subsets. Then how
often readings are right by confidence band (is the confidence usable for
filtering?) and, with ``--failures K``, K wrong readings per set drawn at
random (seed 0): the model card's examples.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ocr_lstm.evaluation.crops import DatasetReadings, read_dataset
from ocr_lstm.metrics import reads_right
from ocr_lstm.predictors import Recognizer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = [("svt", None), ("ic13", None), ("ic13", "labels_1015.tsv"), ("ic13", "labels_857.tsv")]
BANDS = [(0.9, 1.01, ">= 0.9"), (0.5, 0.9, "0.5 - 0.9"), (0.0, 0.5, "< 0.5")]


def confidence_bands(read: DatasetReadings) -> list[tuple[str, int, float]]:
    """(band, readings in it, % right under the standard protocol) per confidence band."""
    rows = []
    for low, high, name in BANDS:
        pairs = [
            (r.text, t) for r, t in zip(read.readings, read.labels) if r is not None and low <= r.confidence < high
        ]
        right = sum(reads_right(p, t) for p, t in pairs)
        rows.append((name, len(pairs), 100.0 * right / len(pairs) if pairs else 0.0))
    return rows


def failures(read: DatasetReadings, count: int) -> list[str]:
    wrong = [
        f"{t} -> {r.text} ({r.confidence:.2f})"
        for r, t in zip(read.readings, read.labels)
        if r is not None and not reads_right(r.text, t)
    ]
    return random.Random(0).sample(wrong, min(count, len(wrong)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", type=Path, default=SHARED,
                        help="folder holding svt/ and ic13/ (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--failures", type=int, default=0, help="wrong readings to show per set (default: none)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    parser.add_argument("--word-prior", action=argparse.BooleanOptionalAction, default=True,
                        help="decode with the English word prior, as the Recognizer does by default "
                        "(--no-word-prior: what the model alone reads)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found")
        return 0
    recognizer = Recognizer(args.model, threads=args.threads, word_prior=args.word_prior)
    print(f"model: {recognizer.name} ({args.model}), parameters: {recognizer.describe()['parameters']:,}, "
          f"word prior: {'on' if args.word_prior else 'off'}, backend: {recognizer.backend}")
    print(f"{'set':<22} {'n':>5} {'word acc':>9} {'case-sens':>9} {'CER':>7} {'crops/s':>8}")
    rows, reads = [], {}
    for name, labels in SETS:
        folder = args.data / name
        if not folder.is_dir() or (labels and not (folder / labels).is_file()):
            continue
        read = read_dataset(recognizer, str(folder), labels)
        subset = f" ({labels.removeprefix('labels_').removesuffix('.tsv')})" if labels else ""
        row = {"set": name + subset, **read.summary()}
        rows.append(row)
        if labels is None:
            reads[name] = read
        print(f"{row['set']:<22} {row['samples']:>5} {row['word_accuracy']:>9.2f} "
              f"{row['case_sensitive_accuracy']:>9.2f} {row['cer']:>7.4f} {row['crops_per_sec']:>8.1f}")
    print("\nright by confidence band (standard protocol):")
    for name, read in reads.items():
        bands = ", ".join(f"{band}: {pct:.1f} % of {n}" for band, n, pct in confidence_bands(read))
        print(f"  {name}: {bands}")
    if args.failures:
        for name, read in reads.items():
            print(f"\n{name}, {args.failures} wrong readings at random (label -> reading (confidence)):")
            for line in failures(read, args.failures):
                print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
