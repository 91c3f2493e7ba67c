"""Where a CPU training step's time goes: fetching + augmenting a batch vs forward/backward.

    python benchmarks/train_step.py [--steps 10] [--bf16] [--scene-distortion 0.4]

Uses the bundled recipe (its model size, batch 64) on a small synthetic pool rendered
into a temporary folder, so it needs no ../shared. ``--bf16`` also times the step
under CPU bf16 autocast, which the training loop does not use.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

from training.config import TrainConfig
from training.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--scene-distortion", type=float, default=0.0, help="share of crops given a scene distortion")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig.from_file("bundled", [
            f"synth_count={64 * 8}", f"synth_cache={tmp + '/pool'!r}", f"output={tmp + '/run'!r}",
            "real_sets=[]", "val_sets=[]", f"threads={args.threads}", f"scene_distortion={args.scene_distortion}",
        ])
        trainer = Trainer(config)
        sampler = trainer._load_data()
        batches = iter(sampler)
        augmenter = config.augmenter()

        def fetch() -> tuple[torch.Tensor, ...]:
            return sampler.materialise(next(batches), trainer.charset, augmenter)

        for _ in range(2):
            trainer.train_step(*fetch())
        fetch_s = step_s = 0.0
        for _ in range(args.steps):
            start = time.perf_counter()
            batch = fetch()
            middle = time.perf_counter()
            trainer.train_step(*batch)
            fetch_s += middle - start
            step_s += time.perf_counter() - middle
        total = fetch_s + step_s
        samples = args.steps * config.batch_size
        print(f"fetch+augment {1000 * fetch_s / args.steps:.1f} ms/batch ({100 * fetch_s / total:.1f} %), "
              f"forward+backward+step {1000 * step_s / args.steps:.1f} ms/batch; {samples / total:.0f} samples/s")
        if args.bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                trainer.train_step(*fetch())
                start = time.perf_counter()
                for _ in range(args.steps):
                    trainer.train_step(*fetch())
                bf16_s = time.perf_counter() - start
            print(f"bf16 autocast: {samples / bf16_s:.0f} samples/s ({bf16_s / total:.1f}x the fp32 time)")


if __name__ == "__main__":
    main()
