"""Training batches: augmentation keeps the geometry valid, mixing follows the ratio."""

from __future__ import annotations

from collections import Counter
from itertools import islice

import numpy as np
import pytest
import torch

from ocr_lstm.charset import Charset
from ocr_lstm.preprocessing import WIDTH_MULTIPLE
from training.crop_pool import CropPool
from training.sampling import MixedBatches, augment_crop, lower_resolution, shear_and_tilt, shift_vertically


def pool(labels: list[str], widths: list[int], fill: int = 0) -> CropPool:
    return CropPool.from_crops(((np.full((32, w), fill, np.uint8), t) for t, w in zip(labels, widths)), 32)


@pytest.mark.parametrize("width", [8, 16, 52, 100, 250, 256])
def test_augment_crop_keeps_height_and_a_bounded_multiple_of_four_width(width: int) -> None:
    rng = np.random.default_rng(width)
    crop = np.random.default_rng(0).integers(0, 256, (32, width), dtype=np.uint8)
    for _ in range(100):
        out = augment_crop(crop, rng, max_width=256)
        assert out.shape[0] == 32
        assert out.shape[1] % WIDTH_MULTIPLE == 0
        assert WIDTH_MULTIPLE <= out.shape[1] <= 256
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


def test_mixed_batches_follow_the_real_ratio_and_weights() -> None:
    synth = pool(["s"] * 50, [40] * 50)
    heavy, light = pool(["h"] * 10, [40] * 10), pool(["l"] * 10, [40] * 10)
    batches = MixedBatches(synth, [heavy, light], [3.0, 1.0], real_ratio=0.4, batch_size=32, seed=0)
    counts = Counter(source for batch in islice(iter(batches), 100) for source, _ in batch)
    total = sum(counts.values())
    assert total == 3200
    assert counts[0] / total == pytest.approx(0.6, abs=0.03)
    assert counts[1] / total == pytest.approx(0.3, abs=0.03)
    assert counts[2] / total == pytest.approx(0.1, abs=0.02)


def test_real_data_only_when_there_is_no_synthetic_pool() -> None:
    batches = MixedBatches(None, [pool(["r"] * 4, [16] * 4)], [1.0], real_ratio=0.1, batch_size=4, seed=0)
    assert all(source == 0 for batch in islice(iter(batches), 10) for source, _ in batch)


def test_no_data_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="no training data"):
        MixedBatches(None, [], [], 0.5, 8, 0)


def test_batches_hold_similar_widths() -> None:
    widths = list(range(16, 16 + 4 * 64, 4))
    batches = MixedBatches(pool(["w"] * 64, widths), [], [], 0.0, batch_size=8, seed=0)
    spreads = []
    for batch in islice(iter(batches), 40):
        batch_widths = [widths[i] for _, i in batch]
        spreads.append(max(batch_widths) - min(batch_widths))
    assert np.mean(spreads) < 0.3 * (max(widths) - min(widths))


def test_materialise_gives_ctc_ready_tensors() -> None:
    charset = Charset()
    data = pool(["ab", "hello", "x"], [16, 40, 24])
    batches = MixedBatches(data, [], [], 0.0, batch_size=3, seed=0)
    picks = [(0, 0), (0, 1), (0, 2)]
    images, widths, targets, lengths = batches.materialise(picks, charset, max_width=256, augment=False)
    assert images.shape == (3, 1, 32, 40)
    assert widths.tolist() == [16, 40, 24]
    assert lengths.tolist() == [2, 5, 1]
    assert targets.tolist() == charset.encode("ab") + charset.encode("hello") + charset.encode("x")
    assert targets.dtype == torch.long


def test_same_seed_same_batches() -> None:
    data = pool([str(i) for i in range(30)], [16 + 4 * (i % 7) for i in range(30)])
    first = list(islice(iter(MixedBatches(data, [], [], 0.0, 4, seed=5)), 5))
    second = list(islice(iter(MixedBatches(data, [], [], 0.0, 4, seed=5)), 5))
    assert first == second
