"""How a command ends when something goes wrong: one ``error:`` line and exit 1, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

# What a user's input or machine causes: bad files, settings, missing packages or devices.
USER_ERRORS: tuple[type[Exception], ...] = (ValueError, RuntimeError, OSError, ImportError)


def report_errors(command: Callable[[], int], expected: tuple[type[Exception], ...] = USER_ERRORS) -> int:
    """Run ``command``; an ``expected`` error ends as one line and exit 1, Ctrl-C as exit 130.
    Anything else keeps its traceback."""
    try:
        return command()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except expected as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
