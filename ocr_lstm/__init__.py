"""ocr-lstm: scene-text recognition with a CRNN (CNN + bidirectional LSTM + CTC).

The names here, and the two public modules :mod:`ocr_lstm.predictors` (what reads: the
Recognizer, the photo pipeline, their parts and options) and :mod:`ocr_lstm.io` (images in,
readings out, and their formats), are what callers import. The names here are imported lazily,
so importing the package sets OpenMP's environment before torch starts.
"""

from __future__ import annotations

import os
from typing import Any

# Idle OpenMP threads sleep instead of spinning: spin-waiting was reported (project
# brief, ../shared/PEERS.md) to collapse throughput up to 30x on a shared 2-core
# machine. It only takes effect before torch starts, hence here, before any
# submodule imports torch; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
__all__ = ["OCR", "Charset", "Page", "Recognition", "Recognizer"]


def __getattr__(name: str) -> Any:
    if name in ("Recognizer", "Recognition"):
        from ocr_lstm.recognition import recognizer

        return getattr(recognizer, name)
    if name == "OCR":
        from ocr_lstm.photo.pipeline import OCR

        return OCR
    if name == "Page":
        from ocr_lstm.elements import Page

        return Page
    if name == "Charset":
        from ocr_lstm.charset import Charset

        return Charset
    raise AttributeError(f"module 'ocr_lstm' has no attribute {name!r}")
