"""``ocr-lstm serve``: the REST API under uvicorn, registered as an entry point of ``ocr_lstm.commands``."""

from __future__ import annotations

import argparse

from ocr_lstm.commands import Command
from ocr_lstm.commands.argtypes import port_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    parser.add_argument("--port", type=port_number, default=8000,
                        help="port, 0 to 65535 (default: %(default)s)")
    parser.add_argument("--model", default=None,
                        help="checkpoint or bundled model name (default: OCR_LSTM_MODEL or the bundled model)")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: building the parser for `ocr-lstm --help` never loads FastAPI.
    try:
        from service.main import serve
    except ImportError as exc:
        raise ImportError(f"ocr-lstm serve needs the service package, FastAPI and uvicorn ({exc})") from None

    serve(host=args.host, port=args.port, model=args.model)
    return 0


COMMAND = Command("start the REST API", add_arguments, run)
