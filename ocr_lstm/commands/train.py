"""``ocr-lstm train``: delegates to ``training.train`` (installed with the project)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The options are training's own. Without training, `train` says so when run and the other
    # commands still work.
    try:
        from training.train import build_parser
    except ImportError as exc:
        parser.description = f"unavailable: {_missing(exc)}"
        return
    build_parser(parser)


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: ocr_lstm never depends on training (STYLE.md), only this command does.
    try:
        from training.train import train_from_args
    except ImportError as exc:
        raise ImportError(_missing(exc)) from None
    return train_from_args(args)


def _missing(exc: ImportError) -> str:
    return f"ocr-lstm train needs the training package, installed with the project from its source ({exc})"
