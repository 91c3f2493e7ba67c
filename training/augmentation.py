"""Label-preserving augmentation of height-normalised training crops.

The synthetic pool is rendered once, so these run on every draw to keep it from
repeating itself, and they stretch the ~6k real training crops further. Everything
works at the model height (32 pixels), so a batch of 64 costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_lstm.model.config import WIDTH_STRIDE


@dataclass(frozen=True)
class CropAugmenter:
    """Augments one crop per call; ``scene_distortion`` is the share of crops that also get
    one of :data:`SCENE_DISTORTIONS` (0 leaves runs before it was added reproducible)."""

    max_width: int
    scene_distortion: float = 0.0

    def __call__(self, crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return augment_crop(crop, rng, self.max_width, self.scene_distortion)


def augment_crop(
    crop: np.ndarray, rng: np.random.Generator, max_width: int, scene_distortion: float = 0.0
) -> np.ndarray:
    """Cheap label-preserving changes, each aimed at a way real crops differ from rendered ones.

    Condensed or wide lettering (aspect jitter), loose or tight boxes (margins,
    vertical shift), slant and tilt (shear, rotation), low resolution (down- then
    up-scaling), blur, JPEG artefacts, noise, contrast and inversion; with
    probability ``scene_distortion`` first one of the stronger scene distortions.
    The result is at most ``max_width`` wide, in a multiple of the model's width step.
    """
    height, width = crop.shape
    out = crop
    if scene_distortion and rng.random() < scene_distortion:  # no draw at 0: older runs replay
        out = SCENE_DISTORTIONS[int(rng.integers(len(SCENE_DISTORTIONS)))](out, rng)
        height, width = out.shape
    if rng.random() < 0.5:
        new_width = int(np.clip(width * rng.uniform(0.65, 1.35), 8, max_width))
        out = cv2.resize(out, (new_width, height), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        pad_left, pad_right = (int(v) for v in rng.integers(0, 6, size=2))
        out = cv2.copyMakeBorder(out, 0, 0, pad_left, pad_right, cv2.BORDER_REPLICATE)
    if rng.random() < 0.2:
        out = shift_vertically(out, rng)
    if rng.random() < 0.2:
        out = shear_and_tilt(out, rng)
    if rng.random() < 0.2:
        out = lower_resolution(out, rng)
    if rng.random() < 0.3:
        alpha, beta = rng.uniform(0.6, 1.4), rng.uniform(-30, 30)
        out = cv2.convertScaleAbs(out, alpha=alpha, beta=beta)
    if rng.random() < 0.15:
        out = 255 - out
    if rng.random() < 0.15:
        size = 3 if rng.random() < 0.7 else 5
        out = cv2.GaussianBlur(out, (size, size), rng.uniform(0.3, 1.2))
    if rng.random() < 0.1:
        quality = int(rng.integers(15, 60))
        encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
        out = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    if rng.random() < 0.1:
        out = np.clip(out + rng.normal(0, rng.uniform(3, 12), out.shape), 0, 255).astype(np.uint8)
    width = min(out.shape[1], max_width)
    width = max(WIDTH_STRIDE, width - width % WIDTH_STRIDE)
    if width != out.shape[1]:
        out = cv2.resize(out, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out)


def shift_vertically(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cut up to 3 rows from one edge or add up to 4 to the other, back at the same height:
    boxes that clip the letters' tops or leave room above them."""
    height, width = crop.shape
    top, bottom = (int(v) for v in rng.integers(-3, 5, size=2))
    cropped = crop[max(0, -top) : height - max(0, -bottom)]
    padded = cv2.copyMakeBorder(cropped, max(0, top), max(0, bottom), 0, 0, cv2.BORDER_REPLICATE)
    return cv2.resize(padded, (width, height), interpolation=cv2.INTER_LINEAR)


def shear_and_tilt(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Italic-like shear and a small rotation, on a canvas widened so no letter leaves it.

    The tilt is capped so a long word's ends move at most 3 pixels up or down.
    """
    height, width = crop.shape
    shear = rng.uniform(-0.3, 0.3)
    max_angle = min(np.deg2rad(4.0), np.arctan(3.0 / max(width / 2, 1.0)))
    angle = rng.uniform(-max_angle, max_angle)
    margin = int(np.ceil(abs(shear) * height / 2)) + 1
    padded = cv2.copyMakeBorder(crop, 0, 0, margin, margin, cv2.BORDER_REPLICATE)
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.array([[cos, -sin + shear, 0.0], [sin, cos, 0.0]])
    centre = np.array([padded.shape[1] / 2, height / 2])
    matrix[:, 2] = centre - matrix[:, :2] @ centre
    return cv2.warpAffine(
        padded, matrix, (padded.shape[1], height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def lower_resolution(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Down-scale to 9-20 pixels high and back: the soft, blocky look of far-away signs."""
    height, width = crop.shape
    scale = rng.uniform(9, 20) / height
    small_size = (max(2, round(width * scale)), max(2, round(height * scale)))
    small = cv2.resize(crop, small_size, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


# The geometric distortions fill the room they make by replicating the crop's edges, as
# the scene around a real box continues its background; a letter touching the crop's edge
# leaves a streak there.


def rotate_in_box(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate by up to 15 degrees inside the axis-aligned box around the rotated word, as
    incidental-scene crops (ICDAR 2015) come: smaller, diagonal text in a taller box.

    The angle is capped so the box grows to about 2.2 times the height at most (long words
    tilt less), and the result is scaled back to the model height.
    """
    height, width = crop.shape
    max_angle = min(np.deg2rad(15.0), np.arcsin(min(1.0, 1.2 * height / max(width, 1))))
    angle = rng.uniform(-max_angle, max_angle)
    cos, sin = abs(np.cos(angle)), abs(np.sin(angle))
    box_w, box_h = int(np.ceil(width * cos + height * sin)), int(np.ceil(width * sin + height * cos))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), np.rad2deg(angle), 1.0)
    matrix[:, 2] += ((box_w - width) / 2, (box_h - height) / 2)
    rotated = cv2.warpAffine(crop, matrix, (box_w, box_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    size = (max(WIDTH_STRIDE, round(box_w * height / box_h)), height)
    return cv2.resize(rotated, size, interpolation=cv2.INTER_AREA)


def keystone(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sign seen from the side: each corner moves inwards (up to 20 % of the height,
    8 % of the width), so the word shrinks into a quadrilateral and no letter leaves the crop."""
    height, width = crop.shape
    dy = rng.uniform(0, 0.2 * height, size=4)
    dx = rng.uniform(0, 0.08 * width, size=4)
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32(
        [[dx[0], dy[0]], [width - dx[1], dy[1]], [width - dx[2], height - dy[2]], [dx[3], height - dy[3]]]
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    return cv2.warpPerspective(crop, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def arc(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bend the baseline into an arc (the middle up to 30 % of the height above or below
    the ends), on a canvas grown by the bend on the side the middle moves to, then scaled
    back to the model height (so the word shrinks to at least 1 / 1.3 of it)."""
    height, width = crop.shape
    bend = rng.uniform(-0.3, 0.3) * height  # > 0 lifts the middle
    margin = int(np.ceil(abs(bend))) + 1
    top, bottom = (margin, 0) if bend > 0 else (0, margin)
    padded = cv2.copyMakeBorder(crop, top, bottom, 0, 0, cv2.BORDER_REPLICATE)
    xs = np.arange(width, dtype=np.float32)
    offset = bend * (1.0 - ((xs - (width - 1) / 2) / max((width - 1) / 2, 1.0)) ** 2)
    map_x = np.broadcast_to(xs, padded.shape).astype(np.float32)
    map_y = (np.arange(padded.shape[0], dtype=np.float32)[:, None] + offset[None, :]).astype(np.float32)
    bent = cv2.remap(padded, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.resize(bent, (width, height), interpolation=cv2.INTER_AREA)


def motion_blur(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Smear along a random direction over a 3, 5 or 7 pixel kernel (a diagonal covers fewer
    pixels): a camera moving past the sign."""
    size = int(rng.choice([3, 5, 7]))
    kernel = np.zeros((size, size), np.float32)
    angle = rng.uniform(0, np.pi)
    half = (size - 1) / 2
    end = (round(half + half * np.cos(angle)), round(half + half * np.sin(angle)))
    start = (round(half - half * np.cos(angle)), round(half - half * np.sin(angle)))
    cv2.line(kernel, start, end, 1.0, 1)
    return cv2.filter2D(crop, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REPLICATE)


def heavy_blur(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Out of focus: a Gaussian blur of sigma 1.2-2.2 pixels at the model height, beyond the
    light blur every crop may get."""
    return cv2.GaussianBlur(crop, (0, 0), rng.uniform(1.2, 2.2))  # (0, 0): a kernel as wide as sigma needs


SCENE_DISTORTIONS: tuple[Callable[[np.ndarray, np.random.Generator], np.ndarray], ...] = (
    rotate_in_box, keystone, arc, motion_blur, heavy_blur,
)
