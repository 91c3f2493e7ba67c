"""Text detection: where the lines of text are in a photo, as 4-point polygons.

The default :class:`DBDetector` runs PaddleOCR's DB detector (PP-OCRv6 small, shipped
in the rapidocr wheel) with ONNX Runtime. Nothing here imports torch.
"""

from __future__ import annotations

from ocr_lstm.detection.base import DetectedLine, TextDetector
from ocr_lstm.detection.config import DetectorConfig
from ocr_lstm.detection.db_onnx import DBDetector

__all__ = ["DBDetector", "DetectedLine", "DetectorConfig", "TextDetector"]
