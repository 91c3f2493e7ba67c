"""PaddleOCR's DB text detector run with ONNX Runtime on the CPU, with our own input form (here) and
post-processing (:mod:`~ocr_lstm.detection.postprocessing`).

The input: a photo scaled to sides that are multiples of the network's stride, then a normalised
NCHW float32 BGR tensor. The conventions are rapidocr's (``rapidocr/ch_ppocr_det/utils.py``,
``DetPreProcess``), which are PaddleOCR's: the model was trained on OpenCV-decoded, so BGR, images
scaled to [0, 1] and normalised with mean 0.5 and std 0.5 per channel; sizes are rounded to the
nearest multiple of 32 after truncating the scaled size, with OpenCV's bilinear resize.

rapidocr first caps the longer side at 2000 and then scales the shorter side UP to 736 ("min"
limit), however large the longer side becomes. We cap the longer side at ``max_side`` always (time
and memory grow with the pixel count and a service must bound them) and scale up to ``min_side``
only while that cap holds, so we never scale up more than rapidocr does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from ocr_lstm.detection.base import DetectedLine
from ocr_lstm.detection.config import STRIDE, DetectorConfig
from ocr_lstm.detection.models import locate_model
from ocr_lstm.detection.postprocessing import lines_from_probability_map


def detection_scale(width: int, height: int, max_side: int, min_side: int = 0) -> float:
    """The factor a ``width x height`` photo is scaled by before rounding to the stride:
    down so the longer side fits ``max_side``, up towards a shorter side of ``min_side``
    as far as ``max_side`` allows."""
    longer, shorter = max(width, height), min(width, height)
    cap = max_side / longer
    scale = min(1.0, cap)
    if shorter * scale < min_side:
        scale = min(min_side / shorter, cap)
    return scale


def round_to_stride(length: float, limit: int, stride: int = STRIDE) -> int:
    """``length`` truncated, then rounded to the nearest multiple of ``stride`` (as
    rapidocr does), but at least ``stride`` and at most the largest multiple within ``limit``."""
    steps = round(int(length) / stride)
    return max(1, min(steps, limit // stride)) * stride


def resize_for_detection(
    rgb: np.ndarray, max_side: int, stride: int = STRIDE, min_side: int = 0
) -> tuple[np.ndarray, float, float]:
    """``rgb`` resized for the detector, with ``scale_x`` and ``scale_y``: the resized
    width and height over the original's (they differ slightly, from the rounding)."""
    if max_side < stride:
        raise ValueError(f"max_side must be at least the stride {stride}, got {max_side}")
    height, width = rgb.shape[:2]
    if width == 0 or height == 0:
        raise ValueError(f"cannot detect text in an empty {width}x{height} image")
    scale = detection_scale(width, height, max_side, min_side)
    new_width = round_to_stride(width * scale, max_side, stride)
    new_height = round_to_stride(height * scale, max_side, stride)
    resized = rgb if (new_width, new_height) == (width, height) else cv2.resize(rgb, (new_width, new_height))
    return resized, new_width / width, new_height / height


def normalise(rgb: np.ndarray) -> np.ndarray:
    """An RGB uint8 ``H x W x 3`` image as the model's input: ``1 x 3 x H x W`` float32,
    channels in BGR order, ``(pixel / 255 - 0.5) / 0.5``."""
    bgr = rgb[:, :, ::-1].astype(np.float32)
    scaled = bgr * np.float32(2 / 255) - np.float32(1)
    return np.ascontiguousarray(scaled.transpose(2, 0, 1)[np.newaxis])


@dataclass(frozen=True)
class MapScale:
    """How a probability map relates to its photo: ``scale_x``/``scale_y`` are the map's
    width/height over the photo's, ``original_size`` the photo's ``(width, height)``."""

    scale_x: float
    scale_y: float
    original_size: tuple[int, int]


def check_rgb(image: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``image`` is a non-empty RGB uint8 ``H x W x 3`` array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError(f"the detector takes a uint8 numpy array, got {getattr(image, 'dtype', type(image))}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"the detector takes an RGB H x W x 3 image, got shape {image.shape}")


def session_options(threads: int | None, memory_arena: bool = True) -> ort.SessionOptions:
    """Sequential execution on ``threads`` intra-op threads (ONNX Runtime's choice when ``None``).

    ``memory_arena=False`` turns ONNX Runtime's CPU arena off: a photo's tensors are then given
    back after each run instead of kept at their largest size, which a long-running server wants
    (its memory returns after a load) and which costs about 15 % of the detection time."""
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = memory_arena
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if threads is not None:
        options.intra_op_num_threads = threads
    # Idle pool threads would spin between photos on a shared machine (cf. OMP_WAIT_POLICY).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class DBDetector:
    """A :class:`~ocr_lstm.detection.base.TextDetector`: finds text lines in RGB photos."""

    def __init__(
        self, config: DetectorConfig | None = None, threads: int | None = None, memory_arena: bool = True
    ) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.config = config or DetectorConfig()
        self.threads = threads
        self.model_path = locate_model(self.config.model)
        self.session = ort.InferenceSession(
            str(self.model_path), session_options(threads, memory_arena), providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    def probability_map(self, rgb: np.ndarray) -> tuple[np.ndarray, MapScale]:
        """The model's float32 text-probability map of ``rgb``, ``H x W`` at the size the
        photo was resized to, and how it maps back to the photo."""
        check_rgb(rgb)
        resized, scale_x, scale_y = resize_for_detection(
            rgb, self.config.max_side, min_side=self.config.min_side
        )
        (output,) = self.session.run(None, {self.input_name: normalise(resized)})
        height, width = rgb.shape[:2]
        return output[0, 0].astype(np.float32, copy=False), MapScale(scale_x, scale_y, (width, height))

    def __call__(self, rgb: np.ndarray) -> list[DetectedLine]:
        prob_map, scale = self.probability_map(rgb)
        return lines_from_probability_map(prob_map, self.config, scale.original_size)

    def describe(self) -> dict[str, Any]:
        """What a service reports about its detector (``/v1/model``): no full paths."""
        return {
            "name": "db",
            "model": self.model_path.name,
            "threads": self.threads,
            "config": asdict(self.config),
        }
