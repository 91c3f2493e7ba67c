"""Accuracy of a model on the real sets in ../shared/data (skipped when absent).

    python benchmarks/accuracy.py [--model default] [--json results.json]

Reports, per set, word accuracy under the standard protocol, case-sensitive
accuracy, CER and crops/s; ic13 also on its 1015 and 857 subsets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ocr_lstm.commands.evaluate import evaluate_dataset  # noqa: E402
from ocr_lstm.recognizer import Recognizer  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = [("svt", None), ("ic13", None), ("ic13", "labels_1015.tsv"), ("ic13", "labels_857.tsv")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", type=Path, default=SHARED, help="folder holding svt/ and ic13/ (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found")
        return 0
    recognizer = Recognizer(args.model, threads=args.threads)
    print(f"model: {recognizer.name} ({args.model}), parameters: {recognizer.describe()['parameters']:,}")
    print(f"{'set':<22} {'n':>5} {'word acc':>9} {'case-sens':>9} {'CER':>7} {'crops/s':>8}")
    rows = []
    for name, labels in SETS:
        folder = args.data / name
        if not folder.is_dir() or (labels and not (folder / labels).is_file()):
            continue
        row = evaluate_dataset(recognizer, str(folder), labels)
        row["set"] = name + (f" ({labels.removeprefix('labels_').removesuffix('.tsv')})" if labels else "")
        rows.append(row)
        print(f"{row['set']:<22} {row['samples']:>5} {row['word_accuracy']:>9.2f} "
              f"{row['case_sensitive_accuracy']:>9.2f} {row['cer']:>7.4f} {row['crops_per_sec']:>8.1f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
