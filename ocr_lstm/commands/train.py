"""``ocr-lstm train``: delegates to ``training.train`` (installed with the project)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from training.train import build_parser

    build_parser(parser)


def run(args: argparse.Namespace) -> int:
    import json

    from training.train import config_from_args
    from training.trainer import run as train

    print(json.dumps(train(config_from_args(args))))
    return 0
