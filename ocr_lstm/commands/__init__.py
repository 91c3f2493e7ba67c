"""One module per ``ocr-lstm`` sub-command: ``add_arguments(parser)`` and ``run(args) -> exit code``.

Packages that ``ocr_lstm`` must not import (``service``, ``training``) add their own
sub-commands as entry points of the ``ocr_lstm.commands`` group, each a :class:`Command`:
``ocr-lstm`` finds them without depending on them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import NamedTuple

from ocr_lstm.commands.argtypes import port_number, positive_int

__all__ = ["ENTRY_POINT_GROUP", "Command", "port_number", "positive_int", "registered_commands"]

ENTRY_POINT_GROUP = "ocr_lstm.commands"


class Command(NamedTuple):
    """A sub-command: its one-line summary, what it adds to its parser, and what it runs."""

    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def registered_commands() -> dict[str, Command]:
    """The sub-commands of the entry-point group, by name. One whose package does not import
    is still listed, and says why when run, so the other commands keep working."""
    commands: dict[str, Command] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            commands[entry_point.name] = entry_point.load()
        except ImportError as exc:
            commands[entry_point.name] = _unavailable(entry_point.name, entry_point.module.split(".")[0], exc)
    return commands


def _unavailable(name: str, package: str, exc: ImportError) -> Command:
    reason = f"ocr-lstm {name} needs the {package} package, installed with the project from its source ({exc})"

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.description = f"unavailable: {reason}"

    def run(args: argparse.Namespace) -> int:
        raise ImportError(reason)

    return Command(f"unavailable: needs the {package} package", add_arguments, run)
