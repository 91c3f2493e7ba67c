"""Augmentation keeps a crop's height, a valid width and its letters; it varies the crop."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_lstm.model.config import WIDTH_STRIDE
from training import augmentation
from training.augmentation import (
    SCENE_DISTORTIONS,
    augment_crop,
    lower_resolution,
    rotate_in_box,
    shear_and_tilt,
    shift_vertically,
)


@pytest.mark.parametrize("scene_distortion", [0.0, 1.0])
@pytest.mark.parametrize("width", [8, 16, 52, 100, 250, 256])
def test_augment_crop_keeps_height_and_a_bounded_multiple_of_four_width(width: int, scene_distortion: float) -> None:
    rng = np.random.default_rng(width)
    crop = np.random.default_rng(0).integers(0, 256, (32, width), dtype=np.uint8)
    for _ in range(100):
        out = augment_crop(crop, rng, max_width=256, scene_distortion=scene_distortion)
        assert out.shape[0] == 32
        assert out.shape[1] % WIDTH_STRIDE == 0
        assert WIDTH_STRIDE <= out.shape[1] <= 256
        assert out.dtype == np.uint8 and out.flags.c_contiguous


def test_augment_crop_varies_its_output() -> None:
    rng = np.random.default_rng(0)
    crop = np.random.default_rng(0).integers(0, 256, (32, 64), dtype=np.uint8)
    outputs = {augment_crop(crop, rng, 256).tobytes() for _ in range(20)}
    assert len(outputs) > 5


def bars_crop(width: int) -> np.ndarray:
    """White crop with a black 3-pixel bar at each end: the first and last letters."""
    crop = np.full((32, width), 255, np.uint8)
    crop[6:26, 1:4] = 0
    crop[6:26, width - 4 : width - 1] = 0
    return crop


@pytest.mark.parametrize("width", [24, 120, 256])
def test_shear_and_tilt_keep_the_end_letters_on_the_canvas(width: int) -> None:
    rng = np.random.default_rng(width)
    crop = bars_crop(width)
    for _ in range(50):
        out = shear_and_tilt(crop, rng)
        assert out.shape[0] == 32 and out.shape[1] >= width
        ink = out < 128
        # Both bars survive whole: nearly all of their 60 dark pixels are still there.
        assert ink[:, : out.shape[1] // 2].sum() >= 50
        assert ink[:, out.shape[1] // 2 :].sum() >= 50


def test_lower_resolution_blurs_but_keeps_the_shape() -> None:
    rng = np.random.default_rng(0)
    crop = np.tile(np.array([0, 255], np.uint8), (32, 50))  # one-pixel stripes
    out = lower_resolution(crop, rng)
    assert out.shape == crop.shape
    assert out.std() < crop.std() / 2  # stripes finer than the lower resolution are lost


def test_shift_vertically_keeps_the_shape_and_moves_the_content() -> None:
    rng = np.random.default_rng(0)
    crop = np.full((32, 40), 255, np.uint8)
    crop[10:22] = 0
    rows = {tuple(np.flatnonzero(shift_vertically(crop, rng)[:, 20] < 128)) for _ in range(30)}
    assert all(len(r) > 0 for r in rows)
    assert len(rows) > 3


@pytest.mark.parametrize("distortion", SCENE_DISTORTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("width", [12, 64, 256])
def test_scene_distortions_keep_every_letter_inside_the_crop(distortion, width: int) -> None:
    """Every distortion is label-preserving: the first, middle and last letters stay in the
    crop, none pushed against its top or bottom edge (where a letter would be cut), at the
    model height, and the crop changes."""
    rng = np.random.default_rng(width)
    crop = bars_crop(width)
    crop[6:26, width // 2 - 1 : width // 2 + 2] = 0
    for _ in range(30):
        out = distortion(crop, rng)
        assert out.shape[0] == 32 and out.dtype == np.uint8
        assert out.shape != crop.shape or not np.array_equal(out, crop)
        assert (out[0] > 128).all() and (out[-1] > 128).all()
        dark = out < 200  # blurred bars are lighter but still darker than the paper
        half = out.shape[1] // 2
        assert dark[:, :half].any() and dark[:, half:].any()
        # Each bar keeps its ink (darkness) but for what shrinking the word loses: a keystone
        # may squeeze it to 0.6 of its height and thin it, a box rotation scale it further;
        # a bar cut off would leave next to none.
        ink = (255.0 - out) * (crop.size / out.size)
        assert ink[:, :half].sum() > 0.3 * (255 * 60) and ink[:, half:].sum() > 0.3 * (255 * 60)


def test_rotate_in_box_caps_the_tilt_of_long_words() -> None:
    """The box grows to about 2.2 times the height at most, so a long word tilts by a few
    degrees only (uncapped, 15 degrees would make its box 3 times as high)."""
    rng = np.random.default_rng(0)
    for _ in range(30):
        out = rotate_in_box(np.full((32, 256), 255, np.uint8), rng)
        assert out.shape[1] / out.shape[0] >= 256 / (2.25 * 32)


@pytest.mark.parametrize(("share", "low", "high"), [(0.0, 0, 0), (0.5, 160, 240), (1.0, 400, 400)])
def test_scene_distortion_share_is_the_rate_of_distorted_crops(
    share: float, low: int, high: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def record(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        calls.append(1)
        return image

    monkeypatch.setattr(augmentation, "SCENE_DISTORTIONS", (record,))
    rng = np.random.default_rng(0)
    for _ in range(400):
        augment_crop(bars_crop(64), rng, 256, scene_distortion=share)
    assert low <= len(calls) <= high
