"""Synthetic rendering speed: images/s of one generator process.

    python benchmarks/synth_speed.py [--count 500] [--difficulty 0.6]

Training renders its pool once with several processes (training/crop_pool.py),
so multiply by the worker count for the pool's rate.
"""

from __future__ import annotations

import argparse
import time

from ocr_lstm.synth.generator import SynthConfig, SynthGenerator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--difficulty", type=float, default=SynthConfig.difficulty)
    args = parser.parse_args()
    start = time.perf_counter()
    generator = SynthGenerator(seed=0, config=SynthConfig(difficulty=args.difficulty))
    setup = time.perf_counter() - start
    generator.render()
    start = time.perf_counter()
    for _ in range(args.count):
        generator.render()
    seconds = time.perf_counter() - start
    print(f"fonts: {len(generator.fonts)}, backgrounds: {len(generator.backgrounds)}, set-up {setup:.1f} s")
    print(f"{args.count} images in {seconds:.2f} s: {args.count / seconds:.0f} images/s (one process)")


if __name__ == "__main__":
    main()
