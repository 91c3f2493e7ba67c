"""The ``ocr-lstm`` command: ocr, recognize, batch, eval, synth, train, serve, explain, lmdb, export.

Errors the user can fix (a missing file, an unreadable image, a bad option)
end with one ``error:`` line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from ocr_lstm.commands import batch, evaluate, explain, export, ocr, recognize, registered_commands, synth, to_lmdb
from ocr_lstm.errors import report_errors

CommandSpec = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, CommandSpec] = {
    "ocr": ("read whole photos: find the text, return words with boxes", ocr.add_arguments, ocr.run),
    "recognize": ("read the text of one or more word images", recognize.add_arguments, recognize.run),
    "batch": ("read every image under a folder into JSONL or CSV", batch.add_arguments, batch.run),
    "eval": ("accuracy, CER and speed on labelled sets", evaluate.add_arguments, evaluate.run),
    "synth": ("render labelled synthetic word images", synth.add_arguments, synth.run),
    "explain": ("picture of the LSTM's gates over an image", explain.add_arguments, explain.run),
    "lmdb": ("convert a labelled folder to LMDB", to_lmdb.add_arguments, to_lmdb.run),
    "export": ("export the model to ONNX (dynamic batch and width)", export.add_arguments, export.run),
}


def all_commands() -> dict[str, CommandSpec]:
    """The built-in commands, then those registered by other packages (``serve``, ``train``)."""
    return COMMANDS | {name: c for name, c in registered_commands().items() if name not in COMMANDS}


class CommandParser(argparse.ArgumentParser):
    """The parser of ``ocr-lstm`` and of each sub-command (argparse makes sub-parsers of their parent's class).

    A usage error is one line that names the option and where to read more: argparse's own
    error prints the whole usage first, 5 to 7 lines for a command with the model options,
    above the one line that matters. A sub-command adds its arguments only when it is used
    (parsed or asked for its help): their defaults live beside heavy modules (torch, cv2),
    which ``ocr-lstm --help`` and one command's usage error should not wait for.
    """

    def __init__(self, *args: Any, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_arguments = add_arguments

    def _complete(self) -> None:
        add_arguments, self._add_arguments = self._add_arguments, None
        if add_arguments is not None:
            add_arguments(self)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        self._complete()
        return super().parse_known_args(*args, **kwargs)

    def format_help(self) -> str:
        self._complete()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(commands: Mapping[str, CommandSpec] | None = None) -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="ocr-lstm",
        description="Scene-text recognition with a CRNN (CNN + bidirectional LSTM + CTC).",
        epilog="Run 'ocr-lstm COMMAND --help' for a command's options. "
        "Every command that reads images takes --model (a checkpoint path or a bundled model's name; "
        "default: the bundled model).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (summary, add_arguments, _) in (all_commands() if commands is None else commands).items():
        sub.add_parser(name, help=summary, description=summary, add_arguments=add_arguments)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    commands = all_commands()
    args = build_parser(commands).parse_args(argv)
    handler = commands[args.command][2]
    return report_errors(lambda: handler(args))


if __name__ == "__main__":
    sys.exit(main())
