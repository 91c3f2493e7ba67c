"""Training batches: mixing follows the ratio and weights, batches hold similar widths."""

from __future__ import annotations

from collections import Counter
from itertools import islice

import numpy as np
import pytest
import torch

from ocr_lstm.charset import Charset
from ocr_lstm.preprocessing import PreprocessConfig
from ocr_lstm.synth.generator import SynthConfig
from training.crop_pool import CropPool, FreshCrops
from training.sampling import MixedBatches


def pool(labels: list[str], widths: list[int], fill: int = 0) -> CropPool:
    return CropPool.from_crops(((np.full((32, w), fill, np.uint8), t) for t, w in zip(labels, widths)), 32)


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
    images, widths, targets, lengths, synthetic = batches.materialise(picks, charset, augmenter=None)
    assert images.shape == (3, 1, 32, 40)
    assert widths.tolist() == [16, 40, 24]
    assert lengths.tolist() == [2, 5, 1]
    assert targets.tolist() == charset.encode("ab") + charset.encode("hello") + charset.encode("x")
    assert targets.dtype == torch.long
    assert synthetic.tolist() == [True, True, True]


def test_materialise_marks_which_crops_are_synthetic() -> None:
    synth, real = pool(["ab", "cd"], [16, 16]), pool(["xy"], [16])
    batches = MixedBatches(synth, [real], [1.0], 0.5, batch_size=3, seed=0)
    *_, synthetic = batches.materialise([(1, 0), (0, 1), (0, 0)], Charset(), augmenter=None)
    assert synthetic.tolist() == [False, True, True]
    *_, synthetic = MixedBatches(None, [real], [1.0], 1.0, 1, 0).materialise([(0, 0)], Charset(), None)
    assert synthetic.tolist() == [False]  # without a synthetic pool, the first pool is a real one


def test_the_fresh_synthetic_pool_is_marked_synthetic() -> None:
    """With fresh_synth, crops rendered in the workers go in the last pool; they are synthetic too."""
    synth, real = pool(["ab", "cd"], [16, 16]), pool(["xy"], [16])
    fresh = FreshCrops(SynthConfig(), PreprocessConfig(height=16), Charset(), share=0.5)  # renders nothing here
    batches = MixedBatches(synth, [real], [1.0], 0.5, batch_size=3, seed=0, fresh=fresh)
    batches.pools[-1] = pool(["ef"], [16])  # the group a worker would have rendered
    *_, synthetic = batches.materialise([(2, 0), (1, 0), (0, 0)], Charset(), augmenter=None)
    assert synthetic.tolist() == [True, False, True]


def test_same_seed_same_batches() -> None:
    data = pool([str(i) for i in range(30)], [16 + 4 * (i % 7) for i in range(30)])
    first = list(islice(iter(MixedBatches(data, [], [], 0.0, 4, seed=5)), 5))
    second = list(islice(iter(MixedBatches(data, [], [], 0.0, 4, seed=5)), 5))
    assert first == second
