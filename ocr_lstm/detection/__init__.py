"""Text detection: where the lines of text are in a photo, as 4-point polygons.

The default :class:`DBDetector` runs PaddleOCR's DB detector (PP-OCRv6 small, shipped
in the rapidocr wheel) with ONNX Runtime. Nothing here imports torch, and ONNX Runtime
is imported only when a detector is built: the CLI reads ``DetectorConfig``'s defaults
for its ``--help`` without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocr_lstm.detection.base import DetectedLine, TextDetector
from ocr_lstm.detection.config import DetectorConfig

if TYPE_CHECKING:
    from ocr_lstm.detection.db_onnx import DBDetector

__all__ = ["DBDetector", "DetectedLine", "DetectorConfig", "TextDetector"]


def __getattr__(name: str) -> Any:
    if name == "DBDetector":
        from ocr_lstm.detection.db_onnx import DBDetector

        return DBDetector
    raise AttributeError(f"module 'ocr_lstm.detection' has no attribute {name!r}")
