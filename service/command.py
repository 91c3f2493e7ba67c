"""``ocr-lstm serve``: the REST API under uvicorn, registered as an entry point of ``ocr_lstm.commands``."""

from __future__ import annotations

import argparse
import errno
import socket

from ocr_lstm.commands import Command, port_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    parser.add_argument("--port", type=port_number, default=8000,
                        help="port, 0 to 65535 (default: %(default)s)")
    parser.add_argument("--model", default=None,
                        help="checkpoint or bundled model name (default: OCR_LSTM_MODEL or the bundled model)")


def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` and let it go again, or raise the one-line ``OSError`` that says why not.

    uvicorn binds only after the model has loaded, so a second ``serve`` on a busy port would
    spend that load, then fail. The socket is made as uvicorn makes its own (IPv6 for a host
    with a colon, ``SO_REUSEADDR``), so a port it could bind is never refused here.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise OSError(f"port {port} on {host} is in use (another ocr-lstm serve?): stop that server "
                              "or choose another --port") from None
            raise OSError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    check_port(args.host, args.port)
    # Imported here, not at the top: building the parser for `ocr-lstm --help` never loads FastAPI.
    try:
        from service.main import serve
    except ImportError as exc:
        raise ImportError(f"ocr-lstm serve needs the service package, FastAPI and uvicorn ({exc})") from None

    serve(host=args.host, port=args.port, model=args.model)
    return 0


COMMAND = Command("start the REST API", add_arguments, run)
