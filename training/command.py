"""``ocr-lstm train``: :mod:`training.train` registered as an entry point of ``ocr_lstm.commands``.

training.train is imported only when the command is used: its configuration imports the
renderer (cv2), which ``ocr-lstm --help`` and the other commands should not wait for.
"""

from __future__ import annotations

import argparse

from ocr_lstm.commands import Command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """training.train's options, each help ending with the default the run takes when it is not
    given: the plain configuration's (training/config.py), and the fine-tuning recipe's where
    ``--init`` changes it. Those options default to None on the parser, meaning "from the config"."""
    from training.config import TrainConfig
    from training.train import FINETUNE_CONFIG, MIN_FINETUNE_POOL, build_parser

    build_parser(parser)
    plain, fine_tune = TrainConfig(), TrainConfig.from_file(FINETUNE_CONFIG)
    defaults = {
        "config": f"none, the fields' defaults in training/config.py; with --init: {FINETUNE_CONFIG}",
        "init": "none, a model trained from scratch",
        **{key: _either(getattr(plain, key), getattr(fine_tune, key))
           for key in ("output", "steps", "batch_size", "lr", "device")},
        "synth_count": f"{plain.synth_count}; with --init: the run's synthetic draws (steps x batch size x "
        f"synthetic share), {MIN_FINETUNE_POOL} to {fine_tune.synth_count}",
    }
    for action in parser._actions:
        if action.dest in defaults:
            action.help = f"{action.help or ''} (default: {defaults[action.dest]})".lstrip()


def _either(plain: object, fine_tune: object) -> str:
    return f"{plain}" if plain == fine_tune else f"{plain}; with --init: {fine_tune}"


def run(args: argparse.Namespace) -> int:
    from training.train import train_from_args

    return train_from_args(args)


COMMAND = Command("train or fine-tune a recognizer", add_arguments, run)
