"""Mixing synthetic and real crops into width-sorted, augmented training batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import torch

from ocr_lstm.charset import Charset
from ocr_lstm.preprocessing import WIDTH_MULTIPLE, to_tensor
from training.crop_pool import CropPool

SORT_GROUP = 8  # batches drawn together, sorted by width, then split: little padding


class MixedBatches:
    """Endless batches: ``real_ratio`` of each from the real pools (by weight), the rest synthetic.

    ``SORT_GROUP`` batches' worth of samples are drawn at once and sorted by
    width, so each batch is padded only to similar widths.
    """

    def __init__(
        self,
        synth: CropPool | None,
        real: Sequence[CropPool],
        real_weights: Sequence[float],
        real_ratio: float,
        batch_size: int,
        seed: int,
    ) -> None:
        if synth is None and not real:
            raise ValueError("no training data: give a synthetic pool or real sets")
        self.pools: list[CropPool] = ([synth] if synth is not None else []) + list(real)
        weights = np.array(real_weights, dtype=np.float64)
        share_real = (real_ratio if synth is not None else 1.0) if real else 0.0
        probs = [1.0 - share_real] if synth is not None else []
        if real:
            probs += list(share_real * weights / weights.sum())
        self.probs = np.array(probs)
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        while True:
            total = self.batch_size * SORT_GROUP
            sources = self.rng.choice(len(self.pools), size=total, p=self.probs)
            picks = [(int(s), int(self.rng.integers(len(self.pools[s])))) for s in sources]
            picks.sort(key=lambda p: int(self.pools[p[0]].widths[p[1]]))
            batches = [picks[i : i + self.batch_size] for i in range(0, total, self.batch_size)]
            for j in self.rng.permutation(len(batches)):
                yield batches[j]

    def materialise(
        self, picks: Sequence[tuple[int, int]], charset: Charset, max_width: int, augment: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images, widths, concatenated targets and target lengths for one batch."""
        crops, targets, lengths = [], [], []
        for source, index in picks:
            crop = self.pools[source].crop(index)
            if augment:
                crop = augment_crop(crop, self.rng, max_width)
            encoded = charset.encode(self.pools[source].labels[index])
            crops.append(crop)
            targets.extend(encoded)
            lengths.append(len(encoded))
        images, widths = to_tensor(crops)
        return images, widths, torch.tensor(targets, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)


def augment_crop(crop: np.ndarray, rng: np.random.Generator, max_width: int) -> np.ndarray:
    """Cheap label-preserving changes to a height-normalised crop.

    The pool is rendered once, so these run on every draw to keep it from
    repeating itself. Each targets a way real crops differ from rendered ones:
    condensed or wide lettering (aspect jitter), loose or tight boxes (margins,
    vertical shift), slant and tilt (shear, rotation), low resolution (down- then
    up-scaling), blur, JPEG artefacts, noise, contrast and inversion. Everything
    works at the model height, so a batch costs milliseconds.
    """
    height, width = crop.shape
    out = crop
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
    width = max(WIDTH_MULTIPLE, width - width % WIDTH_MULTIPLE)
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
    small = cv2.resize(crop, (max(2, round(width * scale)), max(2, round(height * scale))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
