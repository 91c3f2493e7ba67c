"""Quadrilaterals in a photo and the perspective warps that cut them out upright.

A detected text line is a quadrilateral whose first corner is the top-left of the
text *as it reads*. Cutting it out is one perspective warp onto an upright
rectangle; the inverse of that warp maps any column range of the crop (a word)
back to a quadrilateral in the photo. Turning a line a quarter or half turn is
only a matter of which corner comes first, so a line read bottom to top gets its
words' boxes from the same inverse warp, in the right order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_lstm.elements import Polygon


def as_quad(polygon: Sequence[Sequence[float]]) -> np.ndarray:
    """``polygon`` as a (4, 2) float32 array; a ValueError unless it has four points."""
    quad = np.asarray(polygon, dtype=np.float32)
    if quad.shape != (4, 2):
        raise ValueError(f"a text line's polygon needs 4 (x, y) points, got shape {quad.shape}")
    return quad


def to_polygon(points: np.ndarray) -> Polygon:
    return tuple((float(x), float(y)) for x, y in np.asarray(points, dtype=np.float64))


def turn(polygon: Sequence[Sequence[float]], quarter_turns: int) -> np.ndarray:
    """The same quadrilateral with corner ``quarter_turns`` first: the text read as if the
    photo were turned that many quarter turns anticlockwise (1: a line read top to bottom,
    2: upside down, 3: bottom to top)."""
    return np.roll(as_quad(polygon), -quarter_turns, axis=0)


def quad_size(quad: np.ndarray) -> tuple[int, int]:
    """Width and height of the upright rectangle a quadrilateral is warped onto: its longer
    top/bottom edge and its longer left/right edge, at least one pixel."""
    top, bottom = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])
    left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
    return max(1, round(max(top, bottom))), max(1, round(max(left, right)))


@dataclass(frozen=True)
class LineCut:
    """A line cut out of a photo: the upright crop and the warp that maps its pixels back."""

    crop: np.ndarray
    to_photo: np.ndarray  # 3x3 homography, crop pixels -> photo pixels

    def polygon_of_columns(self, left: float, right: float, height_share: float = 1.0) -> Polygon:
        """The photo quadrilateral of the crop's columns ``left`` to ``right``, clockwise from
        the top left as the text reads; ``height_share`` of the crop's height, centred."""
        height = float(self.crop.shape[0])
        top = 0.5 * height * (1.0 - height_share)
        bottom = height - top
        corners = np.array([[[left, top], [right, top], [right, bottom], [left, bottom]]], dtype=np.float32)
        return to_polygon(cv2.perspectiveTransform(corners, self.to_photo)[0])


def cut_quad(image: np.ndarray, quad: np.ndarray) -> LineCut:
    """Warp ``quad`` of ``image`` onto an upright rectangle (edges replicated past the photo)."""
    width, height = quad_size(quad)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    to_crop = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    crop = cv2.warpPerspective(
        image, to_crop, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return LineCut(crop, np.linalg.inv(to_crop))
