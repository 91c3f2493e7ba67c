"""Turn a training checkpoint into the bundled model: fp16 safetensors + JSON.

    python -m training.bundle runs/bundled/last --output ocr_lstm/weights/default

The weights are halved (a few MB) and upcast again on load; the JSON keeps
the charset, preprocessing and the run's metadata (steps, samples, time).
``--raw-weights`` takes, from a run that keeps a moving average of its weights
(``ema_decay``), the raw weights of its ``state.pt`` instead: to measure what
the average adds. ``--average`` takes the mean of several checkpoints' weights
(a "model soup", Wortsman et al. 2022): it works for runs that each start from
the same weights, which stay in one basin of the loss, and is meaningless for runs
trained apart. A run that starts from a mean is not a new member of it: it moves
back to where single runs end (MODEL_CARD.md, stage 5).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from ocr_lstm.checkpoint import BUNDLED_DIR, DEFAULT_MODEL, load_checkpoint, save_checkpoint
from ocr_lstm.errors import report_errors


def bundle(source: str | Path, output: str | Path, raw_weights: bool = False) -> Path:
    checkpoint = load_checkpoint(source)
    metadata = {**checkpoint.metadata, "source_checkpoint": str(source)}
    if raw_weights:
        state_path = Path(source).parent / "state.pt"
        state = torch.load(state_path, map_location="cpu", weights_only=True) if state_path.is_file() else {}
        if state.get("last_is_average") is not False:  # False: a run without an average, whose checkpoints are raw
            if not state.get("model"):
                raise ValueError(f"{state_path} holds no raw weights (written before runs kept them): bundle `last`")
            if state["step"] != checkpoint.metadata.get("steps"):
                raise ValueError(
                    f"{state_path} is at step {state['step']}, {source} at {checkpoint.metadata.get('steps')}"
                )
            checkpoint.model.load_state_dict(state["model"])
        metadata["weights"] = "raw (not the moving average)"
    return save_checkpoint(output, checkpoint.model, checkpoint.charset, checkpoint.preprocess, metadata, half=True)


def average_weights(sources: Sequence[str | Path], output: str | Path) -> Path:
    """Bundle the mean of ``sources``' weights (same architecture and charset); the
    metadata is the first source's, with the list of sources."""
    checkpoints = [load_checkpoint(source) for source in sources]
    first = checkpoints[0]
    for source, other in zip(sources[1:], checkpoints[1:]):
        if other.model.config != first.model.config or other.charset.symbols != first.charset.symbols:
            raise ValueError(f"{source} differs from {sources[0]} in architecture or charset: cannot average")
    states = [c.model.state_dict() for c in checkpoints]
    mean = {
        name: torch.stack([state[name].float() for state in states]).mean(0).to(value.dtype)
        if value.is_floating_point() else value
        for name, value in states[0].items()
    }
    first.model.load_state_dict(mean)
    metadata = {**first.metadata, "averaged_checkpoints": [str(source) for source in sources]}
    return save_checkpoint(output, first.model, first.charset, first.preprocess, metadata, half=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="+",
                        help="training checkpoint (e.g. runs/bundled/last); several with --average")
    parser.add_argument("--output", default=str(BUNDLED_DIR / DEFAULT_MODEL),
                        help="destination (default: %(default)s)")
    parser.add_argument("--raw-weights", action="store_true",
                        help="the raw weights of the run's state.pt, not the moving average")
    parser.add_argument("--average", action="store_true",
                        help="the mean of the sources' weights (runs that each start from the same weights)")
    args = parser.parse_args(argv)
    if len(args.source) > 1 and not args.average:
        parser.error("several sources need --average")
    if args.average and args.raw_weights:
        parser.error("--average and --raw-weights do not combine")
    def write() -> int:
        if args.average:
            path = average_weights(args.source, args.output)
        else:
            path = bundle(args.source[0], args.output, raw_weights=args.raw_weights)
        print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
        return 0

    return report_errors(write)


if __name__ == "__main__":
    sys.exit(main())
