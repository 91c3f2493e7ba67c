"""Choose the word prior's settings on held-out training crops, never on svt/ic13.

    python benchmarks/word_prior.py [--model default] [--set ../shared/data/ic15_train]
        [--holdout 500] [--seed 1] [--weights 0 0.25 0.5 0.75 1] [--oov 1 1.5 2 2.5]

The development set is the ``--holdout`` crops that ``holdout_split`` keeps out of
training for a run with this ``--seed`` (``training/configs/bundled_continue.toml``
holds 500 ic15_train crops out with seed 1). The model reads them once; every
(weight, oov_zipf) pair then decodes the same frames, and the table gives word
accuracy (standard protocol), case-sensitive accuracy, how many readings the prior
changed and the decoding time per crop. Weight 0 is plain greedy decoding.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ocr_lstm.data.datasets import open_dataset
from ocr_lstm.data.splits import holdout_split
from ocr_lstm.metrics import score
from ocr_lstm.predictors import CTCDecoder, Recognizer, WordPriorConfig, english_word_prior, most_confident_turn

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--set", default=str(SHARED / "ic15_train"), help="labelled training set holding the dev crops")
    parser.add_argument("--holdout", type=int, default=500, help="crops held out of training (as in the run's config)")
    parser.add_argument("--seed", type=int, default=1, help="the training run's seed, which fixes the split")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--oov", type=float, nargs="+", default=[1.0, 1.5, 2.0, 2.5],
                        help="prior of readings outside the vocabulary, as a Zipf frequency (shipped: 1.5)")
    parser.add_argument("--max-confidence", type=float, nargs="+", default=[0.9])
    parser.add_argument("--vocabulary", type=int, nargs="+", default=[50_000], help="vocabulary sizes to try")
    parser.add_argument("--letters-per-edit", type=int, nargs="+", default=[4])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if not Path(args.set).exists():
        print(f"{args.set} not found: nothing to measure", file=sys.stderr)
        return 0

    recognizer = Recognizer(args.model, threads=args.threads)
    dataset = open_dataset(args.set)
    _, held = holdout_split(len(dataset), args.holdout, args.seed)
    items = [dataset[i] for i in held]
    prepared = [recognizer.prepare(image) for image, _ in items]
    labels = [label for _, label in items]
    frames = recognizer.frame_log_probs([crop for item in prepared for crop in item.crops])
    print(f"dev set: {len(items)} crops of {args.set} (holdout {args.holdout}, seed {args.seed}); model {args.model}")
    print(f"{'weight':>6} {'oov':>5} {'max_conf':>8} {'vocab':>7} {'l/edit':>6} {'word acc':>9} {'case-sens':>9} "
          f"{'changed':>7} {'ms/crop':>8}")

    baseline = None
    grid = [(0.0, 0.0, 0.0, 0, 0)] + [
        setting
        for setting in itertools.product(
            args.weights, args.oov, args.max_confidence, args.vocabulary, args.letters_per_edit
        )
        if setting[0] > 0
    ]
    for weight, oov, max_confidence, vocabulary, letters_per_edit in grid:
        prior = None
        if weight > 0:
            config = WordPriorConfig(weight, oov, max_confidence, vocabulary, letters_per_edit=letters_per_edit)
            prior = english_word_prior(recognizer.charset, config)
        decoder = CTCDecoder(recognizer.charset, word_prior=prior)
        start = time.perf_counter()
        decoded = [decoder.decode(lp) for lp in frames]
        elapsed = time.perf_counter() - start
        texts, position = [], 0
        for item in prepared:
            turns = decoded[position : position + len(item.crops)]
            position += len(item.crops)
            texts.append(turns[most_confident_turn(turns)].text)
        if baseline is None:
            baseline = texts
        result = score(texts, labels)
        changed = sum(a != b for a, b in zip(texts, baseline))
        print(
            f"{weight:>6.2f} {oov:>5.1f} {max_confidence:>8.2f} {vocabulary:>7} {letters_per_edit:>6} "
            f"{result.word_accuracy:>9.2f} "
            f"{result.case_sensitive_accuracy:>9.2f} {changed:>7} {1000 * elapsed / len(frames):>8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
