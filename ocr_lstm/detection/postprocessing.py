"""DB post-processing: the detector's text-probability map becomes line boxes.

The steps and constants are those of PaddleOCR's ``DBPostProcess`` as rapidocr runs it
(``rapidocr/ch_ppocr_det/utils.py``, "fast" score mode): threshold the map, take each
connected region's minimum-area rectangle, score it by the mean probability inside,
drop weak and tiny ones, grow the rest ("unclip": DB's map marks a shrunk core of each
line), take the grown outline's minimum-area rectangle and scale it to the photo.
Unlike rapidocr we keep sub-pixel coordinates and order the corners by the rule in
:func:`order_clockwise`.
"""

from __future__ import annotations

import cv2
import numpy as np
import pyclipper

from ocr_lstm.detection.base import DetectedLine
from ocr_lstm.detection.config import DetectorConfig
from ocr_lstm.elements import Polygon

# A grown box's shorter side must exceed min_box_size by this many map pixels (DB's min_size + 2).
GROWN_SIZE_MARGIN = 2.0


def binarise(prob_map: np.ndarray, threshold: float, dilate: bool = False) -> np.ndarray:
    """``uint8`` map: 255 where the probability exceeds ``threshold``, optionally dilated by 2 x 2."""
    bitmap = (prob_map > threshold).astype(np.uint8) * 255
    return cv2.dilate(bitmap, np.ones((2, 2), np.uint8)) if dilate else bitmap


def regions(bitmap: np.ndarray, max_candidates: int) -> list[np.ndarray]:
    """The outlines of the bitmap's regions (holes included, as DB does), at most ``max_candidates``."""
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return list(contours[:max_candidates])


def minimum_box(points: np.ndarray) -> tuple[np.ndarray, float]:
    """The minimum-area rectangle around ``points`` as a ``4 x 2`` float32 array of
    corners in cyclic order, and its shorter side."""
    rect = cv2.minAreaRect(points.reshape(-1, 1, 2).astype(np.float32))
    return cv2.boxPoints(rect).astype(np.float32), float(min(rect[1]))


def box_score(prob_map: np.ndarray, box: np.ndarray) -> float:
    """Mean probability inside ``box`` (DB's "fast" score: the box polygon, not the
    region's own outline), over the pixels of the map the box covers."""
    height, width = prob_map.shape
    x_min = int(np.clip(np.floor(box[:, 0].min()), 0, width - 1))
    x_max = int(np.clip(np.ceil(box[:, 0].max()), 0, width - 1))
    y_min = int(np.clip(np.floor(box[:, 1].min()), 0, height - 1))
    y_max = int(np.clip(np.ceil(box[:, 1].max()), 0, height - 1))
    mask = np.zeros((y_max - y_min + 1, x_max - x_min + 1), np.uint8)
    shifted = (box - np.array([x_min, y_min], np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted], 1)
    return float(cv2.mean(prob_map[y_min : y_max + 1, x_min : x_max + 1], mask)[0])


def unclip(box: np.ndarray, ratio: float) -> np.ndarray | None:
    """``box`` grown by ``area * ratio / perimeter`` with round joins (pyclipper), as
    integer points; ``None`` when nothing is left."""
    perimeter = cv2.arcLength(box.reshape(-1, 1, 2), closed=True)
    if perimeter == 0:
        return None
    distance = cv2.contourArea(box.reshape(-1, 1, 2)) * ratio / perimeter
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(distance)
    if not grown:
        return None
    return np.concatenate([np.asarray(path, np.int32) for path in grown])


def order_clockwise(box: np.ndarray) -> np.ndarray:
    """A rectangle's corners clockwise on screen (y down), starting at its top-left.

    The top-left is the start of the edge that points most nearly to the right
    (direction in [-45, 45) degrees): for a line tilted by less than 45 degrees, the top
    edge. A box standing on its short side therefore starts at the top-left of its short
    top edge, whichever way its text runs. (rapidocr's sort by x, from imutils, mixes
    corners up for boxes near 45 degrees.)
    """
    x, y = box[:, 0].astype(np.float64), box[:, 1].astype(np.float64)
    signed_area = float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
    cyclic = box if signed_area >= 0 else box[::-1]
    edges = np.roll(cyclic, -1, axis=0) - cyclic
    angles = np.degrees(np.arctan2(edges[:, 1], edges[:, 0]))
    # Exactly one of a rectangle's four edges lies in this quarter (a zero-length edge counts as 0 degrees).
    rightward = (angles >= -45) & (angles < 45)
    start = int(np.argmax(rightward))
    return np.roll(cyclic, -start, axis=0)


def to_image(box: np.ndarray, map_size: tuple[int, int], original_size: tuple[int, int]) -> np.ndarray:
    """``box`` from map pixels to the original photo's, ordered by :func:`order_clockwise`
    and clipped to ``[0, width] x [0, height]`` (``map_size`` and ``original_size`` are
    ``(width, height)``; rapidocr clips to ``width - 1``, ``height - 1`` and rounds)."""
    scale = np.array([original_size[0] / map_size[0], original_size[1] / map_size[1]], np.float64)
    scaled = order_clockwise(box.astype(np.float64) * scale)
    return np.clip(scaled, 0, np.array(original_size, np.float64))


def side_lengths(box: np.ndarray) -> tuple[float, float]:
    """Lengths of the first and the last edge: the top and the left side of an ordered box."""
    return float(np.linalg.norm(box[1] - box[0])), float(np.linalg.norm(box[3] - box[0]))


def as_polygon(box: np.ndarray) -> Polygon:
    return tuple((float(px), float(py)) for px, py in box)


def lines_from_probability_map(
    prob_map: np.ndarray, config: DetectorConfig, original_size: tuple[int, int]
) -> list[DetectedLine]:
    """The text lines in a ``H x W`` probability map of a photo of ``original_size``
    ``(width, height)``, in the photo's pixels, in the order the regions were found."""
    if prob_map.ndim != 2:
        raise ValueError(f"prob_map must be H x W, got shape {prob_map.shape}")
    prob_map = prob_map.astype(np.float32, copy=False)
    map_size = (prob_map.shape[1], prob_map.shape[0])
    lines: list[DetectedLine] = []
    for contour in regions(binarise(prob_map, config.binary_threshold, config.dilate), config.max_candidates):
        core, shorter = minimum_box(contour)
        if shorter < config.min_box_size:
            continue
        score = box_score(prob_map, core)
        if score < config.box_threshold:
            continue
        grown = unclip(core, config.unclip_ratio)
        if grown is None:
            continue
        box, shorter = minimum_box(grown)
        if shorter < config.min_box_size + GROWN_SIZE_MARGIN:
            continue
        box = to_image(box, map_size, original_size)
        # A box clipped at the photo's border to a sliver is dropped (rapidocr's filter_det_res, with 3).
        if min(side_lengths(box)) <= config.min_box_size:
            continue
        lines.append(DetectedLine(as_polygon(box), score))
    return lines
