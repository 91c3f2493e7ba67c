"""Is a candidate model better than the shipped one, or is the difference noise?

    python benchmarks/compare.py CANDIDATE [--baseline default] [--no-word-prior]

Both models read the same crops: ``svt``, ``ic13`` (all 1095) and the development
sets: the 500 ``ic15_train`` crops that the stage-2 to stage-8 runs hold out (``dev``),
and, where present, the 300 ``ic13_born_digital_train`` and 200 ``evarest_train``
crops that stage 8 (the line model) holds out (``dev-bd``, ``dev-ev``; seed 1 for all).
Per set and over all three, the table gives each model's word accuracy (standard
protocol), the crops only one of them reads right, and the paired standard error
of the difference: with ``b`` and ``c`` such crops out of ``n``,

    SE = sqrt(b + c - (b - c)^2 / n) / n

(the standard error of the mean of the per-crop differences). A difference within
about twice that is what another draw of crops could undo. Skips when ../shared is
absent.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ocr_lstm.data.datasets import open_dataset
from ocr_lstm.data.splits import holdout_split
from ocr_lstm.evaluation.crops import read_dataset
from ocr_lstm.metrics import reads_right
from ocr_lstm.predictors import Recognizer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
# (row name, training set, crops the runs hold out of it): the development sets.
DEV_SETS = (("dev", "ic15_train", 500), ("dev-bd", "ic13_born_digital_train", 300), ("dev-ev", "evarest_train", 200))


@dataclass(frozen=True)
class PairedScore:
    """Two models' right/wrong on the same ``n`` crops."""

    n: int
    baseline_right: int
    candidate_right: int
    only_baseline: int  # crops only the baseline reads right
    only_candidate: int

    @property
    def difference(self) -> float:
        """Candidate minus baseline, in word-accuracy points."""
        return 100.0 * (self.candidate_right - self.baseline_right) / self.n

    @property
    def standard_error(self) -> float:
        """Paired standard error of :attr:`difference`, in points."""
        b, c = self.only_baseline, self.only_candidate
        return 100.0 * math.sqrt(max(b + c - (b - c) ** 2 / self.n, 0.0)) / self.n


def paired_score(baseline: list[bool], candidate: list[bool]) -> PairedScore:
    if len(baseline) != len(candidate):
        raise ValueError("both models must read the same crops")
    return PairedScore(
        n=len(baseline),
        baseline_right=sum(baseline),
        candidate_right=sum(candidate),
        only_baseline=sum(a and not b for a, b in zip(baseline, candidate)),
        only_candidate=sum(b and not a for a, b in zip(baseline, candidate)),
    )


def right_or_wrong(recognizer: Recognizer, path: Path, indices: list[int] | None = None) -> list[bool]:
    read = read_dataset(recognizer, str(path), indices=indices)
    return [reads_right(p, t) for p, t in zip(read.texts, read.labels)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidate", help="model to compare (path or bundled name)")
    parser.add_argument("--baseline", default="default", help="model to compare against (default: %(default)s)")
    parser.add_argument("--data", type=Path, default=SHARED, help="folder holding the sets (default: %(default)s)")
    parser.add_argument("--dev-seed", type=int, default=1, help="the seed that chose the held-out crops")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--word-prior", action=argparse.BooleanOptionalAction, default=True,
                        help="decode with the English word prior, the Recognizer's default")
    args = parser.parse_args(argv)
    if not (args.data / "svt").exists():
        print(f"skipped: {args.data} has no svt/ (../shared is not here)")
        return 0

    sets: list[tuple[str, Path, list[int] | None]] = [
        ("svt", args.data / "svt", None),
        ("ic13", args.data / "ic13", None),
    ]
    for name, folder, count in DEV_SETS:
        dev = args.data / folder
        if dev.exists():
            _, held = holdout_split(len(open_dataset(dev)), count, args.dev_seed)
            sets.append((name, dev, [int(i) for i in held]))
    results: dict[str, list[list[bool]]] = {name: [] for name, _, _ in sets}
    for model in (args.baseline, args.candidate):
        recognizer = Recognizer(model, threads=args.threads, word_prior=args.word_prior)
        for name, path, indices in sets:
            results[name].append(right_or_wrong(recognizer, path, indices))

    prior = "word prior on" if args.word_prior else "greedy, no word prior"
    print(f"baseline {args.baseline}, candidate {args.candidate} ({prior})")
    print(f"{'set':<6} {'n':>5} {'baseline':>9} {'candidate':>9} {'diff':>6} {'SE':>5} "
          f"{'only base':>9} {'only cand':>9}")
    rows = [(name, paired_score(*results[name])) for name, _, _ in sets]
    pooled = [list(chain.from_iterable(results[name][k] for name, _, _ in sets)) for k in (0, 1)]
    rows.append(("all", paired_score(*pooled)))
    for name, row in rows:
        print(f"{name:<6} {row.n:>5} {100 * row.baseline_right / row.n:>9.2f} "
              f"{100 * row.candidate_right / row.n:>9.2f} "
              f"{row.difference:>+6.2f} {row.standard_error:>5.2f} {row.only_baseline:>9} {row.only_candidate:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
