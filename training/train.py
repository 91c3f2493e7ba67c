"""``ocr-lstm train`` / ``python -m training.train``: train or fine-tune a recognizer.

Examples::

    ocr-lstm train --config bundled                          # the bundled model's recipe
    ocr-lstm train --data my_words/ --init default --steps 2000 --output runs/mine   # fine-tune
    (--init without --config starts from training/configs/finetune.toml: it keeps the general
    reading by mixing rendered words and lines in and distilling from the parent model, validates
    on rendered crops ("general") beside --val from step 0, and ends with a before/after table)
    torchrun --nproc_per_node 4 -m training.train --config bundled --set device=cuda
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ocr_lstm.cli import CommandParser
from ocr_lstm.errors import report_errors
from training.config import TrainConfig


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    # CommandParser: a usage error is one line, under torchrun as under `ocr-lstm train`.
    parser = parser or CommandParser(prog="ocr-lstm train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="TOML config file, or the name of one in training/configs (e.g. bundled)")
    parser.add_argument("--output", help="run folder: checkpoints, logs, curves; an existing run there is resumed")
    parser.add_argument("--data", nargs="+", default=None, metavar="PATH",
                        help="labelled training sets (folder with labels.tsv, label file, or LMDB)")
    parser.add_argument("--val", nargs="+", default=None, metavar="PATH", help="labelled validation sets")
    parser.add_argument("--init", help="checkpoint to fine-tune from ('default' = the bundled model)")
    parser.add_argument("--steps", type=int, help="total optimiser steps")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--synth-count", type=int, help="synthetic pool size (0: real data only)")
    parser.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config field with a TOML value, e.g. --set real_ratio=0.3 or "
                        "--set 'val_sets=[\"a/\", \"b/\"]'; text that is not TOML is taken as text (a path) "
                        "(repeatable)")
    _show_defaults(parser)
    return parser


FINETUNE_CONFIG = "finetune"
COMMAND_OPTIONS = ("output", "init", "steps", "batch_size", "lr", "synth_count", "device")


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """End each option's help with the default the run takes when it is not given: the plain
    configuration's (training/config.py), and the fine-tuning recipe's where ``--init`` changes
    it. Those options default to None on the parser, meaning "from the config"."""
    plain, fine_tune = TrainConfig(), TrainConfig.from_file(FINETUNE_CONFIG)
    pool_cap = TrainConfig.from_file(FINETUNE_CONFIG, values={"synth_count_floor": 0}).synth_count  # unsized
    defaults = {
        "config": f"none, the fields' defaults in training/config.py; with --init: {FINETUNE_CONFIG}",
        "init": "none, a model trained from scratch",
        **{key: _either(getattr(plain, key), getattr(fine_tune, key))
           for key in ("output", "steps", "batch_size", "lr", "device")},
        "synth_count": f"{plain.synth_count}; with --init: the run's synthetic draws (steps x batch size x "
        f"synthetic share), {fine_tune.synth_count_floor} to {pool_cap}",
    }
    for action in parser._actions:
        if action.dest in defaults:
            action.help = f"{action.help or ''} (default: {defaults[action.dest]})".lstrip()


def _either(plain: object, fine_tune: object) -> str:
    return f"{plain}" if plain == fine_tune else f"{plain}; with --init: {fine_tune}"


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run ``args`` ask for. ``--init`` without ``--config`` is a fine-tune, which starts
    from the ``finetune`` recipe (training/configs/finetune.toml), sized to the run's steps."""
    fine_tune = args.init is not None and args.config is None
    given = {name: getattr(args, name) for name in COMMAND_OPTIONS}
    values: dict[str, object] = {name: value for name, value in given.items() if value is not None}
    if args.data is not None:
        values["real_sets"] = [{"path": path} for path in args.data]
    if args.val is not None:
        values["val_sets"] = list(args.val)
    return TrainConfig.from_file(FINETUNE_CONFIG if fine_tune else args.config, args.set, values)


def train_from_args(args: argparse.Namespace) -> int:
    """Train as ``args`` say and print the run's summary as JSON (``ocr-lstm train`` too), then, on
    stderr, where the model went and how to use it."""
    from training.trainer import DistributedContext, run

    config = config_from_args(args)
    for warning in config.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps(run(config)))
    if DistributedContext.from_env().is_main:
        print("\n".join(how_to_use(Path(config.output))), file=sys.stderr)
    return 0


def how_to_use(output: Path) -> list[str]:
    """Where a run's model is and the three ways to read with it, as lines to print."""
    best = output / "best"
    return [
        f"the model: {best} (.safetensors + .json; the last weights: {output / 'last'})",
        f"  ocr-lstm recognize IMAGE --model {best}        (and ocr, batch, eval, explain)",
        f"  OCR_LSTM_MODEL={best} ocr-lstm serve",
        f"  Recognizer({str(best)!r})                     (from ocr_lstm import Recognizer)",
        f"  python benchmarks/compare.py {best}.safetensors   (better than the bundled model?)",
    ]


def main(argv: list[str] | None = None) -> int:
    """The torchrun entry point; errors end as in every ``ocr-lstm`` command (``ocr_lstm.errors``)."""
    args = build_parser().parse_args(argv)
    return report_errors(lambda: train_from_args(args))


if __name__ == "__main__":
    sys.exit(main())
