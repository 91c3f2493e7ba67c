"""The Recognizer's options, each default and help text declared once.

The Python API (``Recognizer(...)``'s keywords default to these), the command line
(``ocr_lstm.commands.common`` generates its ``--device``, ``--batch-size``, ... options from
these fields) and the service's ``OCR_LSTM_*`` settings (``service/settings.py`` reuses
their defaults and help) all read them from here. The model itself is not an option: it
is what the options apply to.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field, fields
from typing import Any, Literal

from ocr_lstm.recognition.word_prior import WordPriorConfig


@dataclass(frozen=True)
class RecognizerOptions:
    """How a :class:`~ocr_lstm.recognition.recognizer.Recognizer` runs and decodes its model."""

    device: str = field(default="auto", metadata={"help": "auto (CUDA when present), cpu, cuda or cuda:N"})
    batch_size: int = field(default=32, metadata={
        "help": "images per forward pass (a tall crop and its two turns count as one); 16-32 ran faster than 64 "
        "on a 2-core CPU, docs/performance.md",
    })
    batch_columns: int = field(default=1024, metadata={
        "help": "ONNX Runtime only: at most this many columns of padded crops per forward pass (crops x the "
        "widest), so wide crops come fewer to a batch; ONNX Runtime keeps the largest batch's memory, and "
        "the cap cut batch's from 493 to 243 MB and ran faster (docs/performance.md). PyTorch, slower with "
        "small batches, takes batch_size alone",
    })
    threads: int | None = field(default=None, metadata={
        "help": "CPU threads for torch and ONNX Runtime (default: their own choice)",
    })
    decoding: Literal["greedy", "beam"] = field(default="greedy", metadata={
        "help": "CTC decoding: the best path, or prefix beam search",
    })
    beam_width: int = field(default=10, metadata={"help": "prefixes that beam decoding keeps"})
    allowlist: str | None = field(default=None, metadata={
        "help": "only these characters may be read (default: the whole charset)",
    })
    # True is WordPriorConfig(); the command line and the service only turn it on or off.
    word_prior: WordPriorConfig | bool | None = field(default=True, metadata={
        "help": "let frequent English words win close calls (off for non-English text, codes and names)",
    })
    backend: Literal["auto", "torch", "onnx"] = field(default="auto", metadata={
        "help": "run the model with PyTorch or ONNX Runtime (CPU only); auto: ONNX Runtime on the CPU, "
        "PyTorch on a GPU",
    })
    channels_last: bool = field(default=True, metadata={
        "help": "PyTorch's CNN in channels-last memory layout (+10-30% batched CPU speed, docs/performance.md)",
    })

    @classmethod
    def option(cls, name: str) -> Field[Any]:
        """The declaration of option ``name``: its ``default`` and ``metadata["help"]``."""
        for option in fields(cls):
            if option.name == name:
                return option
        raise KeyError(f"RecognizerOptions has no option {name!r}")

    def as_kwargs(self) -> dict[str, Any]:
        """The options as ``Recognizer`` keywords (a shallow copy: a ``WordPriorConfig`` stays one)."""
        return {option.name: getattr(self, option.name) for option in fields(self)}
