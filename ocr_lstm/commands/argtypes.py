"""argparse value types shared by the commands (no heavy imports: they run while the arguments are parsed)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from pathlib import Path


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1, or a one-line usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def port_number(text: str) -> int:
    """argparse type: a TCP port from 0 to 65535 (0: the system picks a free one), or a one-line usage error.

    Checked here because uvicorn only finds a bad port after the model has loaded, and then with a traceback.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is from 0 to 65535, got {value}")
    return value


def image_path(batch_options: str) -> Callable[[str], str]:
    """argparse type: a path that is not a folder. A folder gets a one-line usage error that points to
    ``ocr-lstm batch FOLDER`` with ``batch_options``: opening it as an image would say "no such file"."""

    def checked(text: str) -> str:
        if Path(text).is_dir():
            raise argparse.ArgumentTypeError(f"{text} is a folder: to read every image under it, run "
                                             f"ocr-lstm batch {shlex.quote(text)} {batch_options}")
        return text

    return checked
