"""How a command ends when something goes wrong: one ``error:`` line and exit 1, not a traceback.

Only errors of the user's input or machine are shortened so: bad files, settings and
arguments (``ValueError``, ``OSError``), missing packages (``ImportError``) and what the
machine lacks (:class:`UnavailableError`). Anything else, a ``RuntimeError`` from torch
(out of memory, a shape or NCCL failure) included, keeps its traceback: it is a bug or a
crash to report, and ``torchrun`` records it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType


class UnavailableError(RuntimeError):
    """The machine lacks what was asked for: a GPU, fonts to render with."""


USER_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError, ImportError, UnavailableError)


def require(module: str, extra: str | None = None) -> ModuleType:
    """Import an optional package when it is first needed, or fail with the one line that says how to
    install it: ``extra`` names the ocr-lstm extra that brings it (``pip install 'ocr-lstm[viz]'``)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        how = f"pip install 'ocr-lstm[{extra}]'" if extra else f"pip install {package} (an ocr-lstm dependency)"
        raise ImportError(f"{package} is not installed: {how}") from None


def report_errors(command: Callable[[], int]) -> int:
    """Run ``command``; a user error ends as one line and exit 1, Ctrl-C as exit 130."""
    try:
        return command()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
