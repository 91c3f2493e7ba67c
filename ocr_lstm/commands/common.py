"""Options shared by the commands that load a model: ``--model`` and one option per field of
:class:`~ocr_lstm.recognition.options.RecognizerOptions`, whose defaults and help they show.

The library is imported inside the functions: the ``ray-batch`` command imports this module
when ``ocr-lstm`` lists its commands, and that listing loads no model code.
"""

from __future__ import annotations

import argparse
import types
from dataclasses import Field, fields
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin, get_type_hints

from ocr_lstm.commands.argtypes import positive_int

if TYPE_CHECKING:
    from ocr_lstm.photo.pipeline import OCR
    from ocr_lstm.recognition.options import RecognizerOptions
    from ocr_lstm.recognition.recognizer import Recognizer

# The options that share a forward pass among many images: a command that reads one leaves them out.
BATCHING = frozenset({"batch_size", "batch_columns"})


def add_model_arguments(parser: argparse.ArgumentParser, leave_out: frozenset[str] = frozenset()) -> None:
    """``--model`` and an option per :class:`RecognizerOptions` field but those named in ``leave_out``,
    which keep their defaults."""
    from ocr_lstm.checkpoint import DEFAULT_MODEL
    from ocr_lstm.recognition.options import RecognizerOptions

    group = parser.add_argument_group("model")
    group.add_argument("--model", default=DEFAULT_MODEL,
                       help="checkpoint (.safetensors with its .json) or bundled model name (default: %(default)s)")
    hints = get_type_hints(RecognizerOptions)
    for option in fields(RecognizerOptions):
        if option.name not in leave_out:
            group.add_argument(f"--{option.name.replace('_', '-')}", **_argument(option, hints[option.name]))


def _argument(option: Field[Any], hint: Any) -> dict[str, Any]:
    """argparse's keywords for an option of type ``hint``: on/off for a bool (``word_prior``'s
    config stays a Python-only choice), choices for a Literal, a positive count for an int."""
    kinds = [kind for kind in (get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,))
             if kind is not type(None)]
    help_text = option.metadata["help"].replace("%", "%%")  # argparse formats help with %
    if bool in kinds:
        help_text += f" (default: {'on' if option.default else 'off'})"
        return {"action": argparse.BooleanOptionalAction, "default": option.default, "help": help_text}
    if option.default is not None:
        help_text += " (default: %(default)s)"
    if get_origin(kinds[0]) is Literal:
        return {"choices": list(get_args(kinds[0])), "default": option.default, "help": help_text}
    return {"type": positive_int if kinds[0] is int else kinds[0], "default": option.default, "help": help_text}


def options_from_args(args: argparse.Namespace) -> RecognizerOptions:
    """The options given, and the defaults of those the command left out."""
    from ocr_lstm.recognition.options import RecognizerOptions

    given = [option.name for option in fields(RecognizerOptions) if hasattr(args, option.name)]
    return RecognizerOptions(**{name: getattr(args, name) for name in given})


def recognizer_from_args(args: argparse.Namespace) -> Recognizer:
    from ocr_lstm.recognition.recognizer import Recognizer

    return Recognizer.from_options(args.model, options_from_args(args))


def add_photo_arguments(parser: argparse.ArgumentParser) -> None:
    """How whole photos are read: the detector's scale and threshold, and the words kept."""
    from ocr_lstm.detection.config import DetectorConfig
    from ocr_lstm.photo.config import OCRConfig

    group = parser.add_argument_group("photos")
    group.add_argument("--max-side", type=positive_int, default=DetectorConfig.max_side,
                       help="scale photos to this longer side for text detection; lines are cut from the "
                       "full photo (default: %(default)s)")
    group.add_argument("--box-threshold", type=float, default=DetectorConfig.box_threshold,
                       help="keep a detected line when its mean text probability reaches this "
                       "(default: %(default)s)")
    group.add_argument("--min-confidence", type=float, default=OCRConfig.min_confidence,
                       help="leave out words read with a lower confidence; words of one or two characters "
                       f"need {OCRConfig.short_word_confidence} (0 keeps every word; default: %(default)s)")


def ocr_from_args(args: argparse.Namespace, recognizer: Recognizer) -> OCR:
    """The photo pipeline that :func:`add_photo_arguments`' options ask for, around ``recognizer``."""
    from ocr_lstm.detection import DBDetector, DetectorConfig
    from ocr_lstm.photo.config import OCRConfig, confidence_floor
    from ocr_lstm.photo.pipeline import OCR

    detector = DBDetector(DetectorConfig(max_side=args.max_side, box_threshold=args.box_threshold),
                          threads=args.threads)
    return OCR(detector, recognizer, confidence_floor(OCRConfig(), args.min_confidence))
