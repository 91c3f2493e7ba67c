"""``ocr-lstm train``: :mod:`training.train` registered as an entry point of ``ocr_lstm.commands``.

training.train is imported only when the command is used: its configuration imports the
renderer (cv2), which ``ocr-lstm --help`` and the other commands should not wait for.
"""

from __future__ import annotations

import argparse

from ocr_lstm.commands import Command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from training.train import build_parser

    build_parser(parser)


def run(args: argparse.Namespace) -> int:
    from training.train import train_from_args

    return train_from_args(args)


COMMAND = Command("train or fine-tune a recognizer", add_arguments, run)
