"""What a text detector gives back: :class:`DetectedLine` s, and the :class:`TextDetector` protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ocr_lstm.elements import Polygon


@dataclass(frozen=True)
class DetectedLine:
    """One text line found in a photo.

    ``polygon`` is 4 ``(x, y)`` points in the input image's pixels, clockwise from the
    top-left corner. Detectors do not know which way the text reads, so for a box whose
    long side is vertical (or text upside down) the first point is still the top-left
    of the box as it lies in the photo; a later stage decides the rotation.
    ``score`` is the mean text probability inside the box, in [0, 1].
    """

    polygon: Polygon
    score: float


class TextDetector(Protocol):
    """Finds text in an RGB uint8 ``H x W x 3`` photo.

    A detector returns one :class:`DetectedLine` per text LINE (words that sit side by
    side on one baseline form one line; the recogniser splits it into words), in any
    order: grouping into blocks and reading order are a later stage's job. A photo
    without text gives ``[]``.
    """

    def __call__(self, image: np.ndarray, /) -> list[DetectedLine]: ...
