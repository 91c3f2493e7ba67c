"""Turn a training checkpoint into the bundled model: fp16 safetensors + JSON.

    python -m training.bundle runs/bundled/last --output ocr_lstm/weights/default

The weights are halved (a few MB) and upcast again on load; the JSON keeps
the charset, preprocessing and the run's metadata (steps, samples, time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ocr_lstm.checkpoint import BUNDLED_DIR, DEFAULT_MODEL, load_checkpoint, save_checkpoint


def bundle(source: str | Path, output: str | Path, extra_metadata: dict | None = None) -> Path:
    checkpoint = load_checkpoint(source)
    metadata = {**checkpoint.metadata, **(extra_metadata or {}), "source_checkpoint": str(source)}
    return save_checkpoint(output, checkpoint.model, checkpoint.charset, checkpoint.preprocess, metadata, half=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="training checkpoint (e.g. runs/bundled/last)")
    parser.add_argument("--output", default=str(BUNDLED_DIR / DEFAULT_MODEL), help="destination (default: %(default)s)")
    args = parser.parse_args(argv)
    path = bundle(args.source, args.output)
    print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
