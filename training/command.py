"""``ocr-lstm train``: :mod:`training.train` registered as an entry point of ``ocr_lstm.commands``."""

from __future__ import annotations

from ocr_lstm.commands import Command
from training.train import build_parser, train_from_args

# training.train imports the trainer only when run, so `ocr-lstm --help` stays light.
COMMAND = Command("train or fine-tune a recognizer", build_parser, train_from_args)
