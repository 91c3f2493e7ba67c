"""``ocr-lstm serve``: the REST API under uvicorn (see service/)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--model", default=None, help="checkpoint or bundled model name (default: OCR_LSTM_MODEL or the bundled model)")


def run(args: argparse.Namespace) -> int:
    from service.main import serve

    serve(host=args.host, port=args.port, model=args.model)
    return 0
