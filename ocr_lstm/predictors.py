"""The library's face for what reads: the recognizer, the photo pipeline and their parts, their
options and the checkpoints they load, importable from one module by the service, the engines and
the benchmarks (as docTR's callers import ``doctr.models``) without knowing the rooms they live in.

What needs ONNX Runtime to import (the detector, the orientation classifier) or torch (the PyTorch
runner, the ONNX export) is imported on first use, so importing this module loads neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocr_lstm.checkpoint import (
    DEFAULT_MODEL,
    Checkpoint,
    CheckpointInfo,
    check_checkpoint,
    load_checkpoint,
    read_checkpoint_info,
    save_checkpoint,
)
from ocr_lstm.detection.base import DetectedLine, TextDetector
from ocr_lstm.detection.config import DetectorConfig
from ocr_lstm.device import device_name
from ocr_lstm.errors import UnavailableError
from ocr_lstm.photo.config import OCRConfig, confidence_floor
from ocr_lstm.photo.pipeline import OCR, LineReading, LineSteps, run_steps, to_photo_pixels
from ocr_lstm.preprocessing import PreparedImage, PreprocessConfig, pad_batch, prepare_crop, width_sorted_batches
from ocr_lstm.recognition.decoding import CTCDecoder, CTCReading, most_confident_turn
from ocr_lstm.recognition.explain import Explanation, explain_prepared
from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.recognizer import Recognizer
from ocr_lstm.recognition.runtime.backend import Runner, build_runner
from ocr_lstm.recognition.runtime.onnx_runner import OnnxRunner
from ocr_lstm.recognition.word_prior import WordPriorConfig, english_word_prior

if TYPE_CHECKING:
    from ocr_lstm.detection.db_onnx import DBDetector
    from ocr_lstm.detection.orientation import LineFlipClassifier
    from ocr_lstm.recognition.runtime.export import export_onnx
    from ocr_lstm.recognition.runtime.torch_runner import TorchRunner

__all__ = [
    "DEFAULT_MODEL", "OCR", "CTCDecoder", "CTCReading", "Checkpoint", "CheckpointInfo", "DBDetector",
    "DetectedLine", "DetectorConfig", "Explanation", "LineFlipClassifier", "LineReading", "LineSteps", "OCRConfig",
    "OnnxRunner", "PreparedImage", "PreprocessConfig", "Recognizer", "RecognizerOptions", "Runner", "TextDetector",
    "TorchRunner", "UnavailableError", "WordPriorConfig", "build_runner", "check_checkpoint", "confidence_floor",
    "device_name", "english_word_prior", "explain_prepared", "export_onnx", "load_checkpoint",
    "most_confident_turn", "pad_batch", "prepare_crop", "read_checkpoint_info", "run_steps", "save_checkpoint",
    "to_photo_pixels", "width_sorted_batches",
]

_ON_FIRST_USE = {
    "DBDetector": "ocr_lstm.detection.db_onnx",
    "LineFlipClassifier": "ocr_lstm.detection.orientation",
    "TorchRunner": "ocr_lstm.recognition.runtime.torch_runner",
    "export_onnx": "ocr_lstm.recognition.runtime.export",
}


def __getattr__(name: str) -> Any:
    if name in _ON_FIRST_USE:
        import importlib

        return getattr(importlib.import_module(_ON_FIRST_USE[name]), name)
    raise AttributeError(f"module 'ocr_lstm.predictors' has no attribute {name!r}")
