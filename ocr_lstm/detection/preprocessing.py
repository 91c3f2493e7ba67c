"""A photo as the DB detector wants it: scaled to sides that are multiples of the
network's stride, then a normalised NCHW float32 BGR tensor.

The conventions are rapidocr's (``rapidocr/ch_ppocr_det/utils.py``, ``DetPreProcess``),
which are PaddleOCR's: the model was trained on OpenCV-decoded, so BGR, images
scaled to [0, 1] and normalised with mean 0.5 and std 0.5 per channel; sizes are
rounded to the nearest multiple of 32 after truncating the scaled size, with OpenCV's
bilinear resize.

rapidocr first caps the longer side at 2000 and then scales the shorter side UP to 736
("min" limit), however large the longer side becomes. We cap the longer side at
``max_side`` always (time and memory grow with the pixel count and a service must
bound them) and scale up to ``min_side`` only while that cap holds, so we never scale
up more than rapidocr does.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr_lstm.detection.config import STRIDE


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
