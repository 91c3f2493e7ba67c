"""ocr-lstm: scene-text recognition with a CRNN (CNN + bidirectional LSTM + CTC).

``Recognizer`` and ``Charset`` are imported lazily, so ``ocr_lstm.cli`` can set
OpenMP's environment before torch starts.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Charset", "Recognition", "Recognizer"]


def __getattr__(name: str) -> Any:
    if name in ("Recognizer", "Recognition"):
        from ocr_lstm import recognizer

        return getattr(recognizer, name)
    if name == "Charset":
        from ocr_lstm.charset import Charset

        return Charset
    raise AttributeError(f"module 'ocr_lstm' has no attribute {name!r}")
