"""Batches made in data workers: the same batches for the same seed, fresh rendered crops among them."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
from word_images import DEJAVU

from ocr_lstm.charset import Charset
from ocr_lstm.preprocessing import PreprocessConfig
from ocr_lstm.synth.generator import SynthConfig
from training.augmentation import CropAugmenter
from training.crop_pool import CropPool, FreshCrops
from training.loader import Batch, WorkerBatches, training_batches
from training.sampling import MixedBatches

CHARSET = Charset()


def saved_pool(path: Path, count: int = 60) -> CropPool:
    """A memory-mapped pool, as the synthetic pool is read: forked workers share its pages."""
    rng = np.random.default_rng(0)
    crops = [(rng.integers(0, 256, (32, 16 + 4 * (i % 9)), dtype=np.uint8), f"w{i}") for i in range(count)]
    CropPool.from_crops(crops, 32).save(path)
    return CropPool.load(path)


def take(batches: object, count: int) -> list[Batch]:
    return list(islice(batches, count))  # type: ignore[call-overload]


def same(first: list[Batch], second: list[Batch]) -> bool:
    return all(torch.equal(a, b) for x, y in zip(first, second) for a, b in zip(x, y))


def test_two_workers_give_the_same_batches_for_the_same_seed(tmp_path: Path) -> None:
    sampler = MixedBatches(saved_pool(tmp_path / "pool"), [], [], 0.0, batch_size=4, seed=0)
    augmenter = CropAugmenter(128, scene_distortion=0.5)

    def draw(seed: tuple[int, ...]) -> list[Batch]:
        return take(training_batches(sampler, CHARSET, augmenter, workers=2, seed=seed), 6)

    first, again, other = draw((1, 0, 0)), draw((1, 0, 0)), draw((2, 0, 0))
    assert same(first, again)
    assert not same(first, other)
    assert not same(first[0::2], first[1::2])  # the two workers draw different batches


def test_without_workers_batches_come_from_the_samplers_own_generator(tmp_path: Path) -> None:
    pool = saved_pool(tmp_path / "pool")
    augmenter = CropAugmenter(128)
    made = take(training_batches(MixedBatches(pool, [], [], 0.0, 4, seed=3), CHARSET, augmenter, 0, (0,)), 3)
    sampler = MixedBatches(pool, [], [], 0.0, 4, seed=3)  # as Trainer.fit drew batches before data workers
    picks = iter(sampler)
    expected = [sampler.materialise(next(picks), CHARSET, augmenter) for _ in range(3)]
    assert same(made, expected)


def test_a_worker_batch_is_ready_for_ctc(tmp_path: Path) -> None:
    sampler = MixedBatches(saved_pool(tmp_path / "pool"), [], [], 0.0, batch_size=5, seed=0)
    images, widths, targets, lengths, _ = next(iter(WorkerBatches(sampler, CHARSET, None, (0, 0, 0))))
    assert images.shape[:3] == (5, 1, 32) and images.shape[3] == int(widths.max())
    assert int(lengths.sum()) == targets.numel() and targets.dtype == torch.long


def fresh(share: float) -> FreshCrops:
    return FreshCrops(SynthConfig(), PreprocessConfig(max_width=128), CHARSET, share)


@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs the DejaVu fonts (make setup)")
def test_fresh_synthetic_crops_are_rendered_and_differ_from_the_pool(tmp_path: Path) -> None:
    pool = saved_pool(tmp_path / "pool", count=20)
    sampler = MixedBatches(pool, [], [], 0.0, batch_size=4, seed=0, fresh=fresh(0.5))
    groups = iter(sampler)
    batch = next(groups)
    fresh_source = len(sampler.pools) - 1
    drawn = [source for picks in [batch, *islice(groups, 7)] for source, _ in picks]  # one group: 8 batches
    assert 0 < drawn.count(fresh_source) < len(drawn)  # about half rendered, the rest from the pool
    rendered = sampler.pools[fresh_source]
    assert len(rendered) == drawn.count(fresh_source)
    assert all(rendered.crop(i).shape[0] == 32 and rendered.crop(i).shape[1] <= 128 for i in range(len(rendered)))
    assert all(CHARSET.clean(label) == label and label for label in rendered.labels)


@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs the DejaVu fonts (make setup)")
def test_fresh_crops_alone_need_no_pool_and_workers_render_their_own() -> None:
    sampler = MixedBatches(None, [], [], 0.0, batch_size=2, seed=0, fresh=fresh(1.0))
    first = take(training_batches(sampler, CHARSET, None, workers=2, seed=(0, 0, 0)), 2)
    again = take(training_batches(sampler, CHARSET, None, workers=2, seed=(0, 0, 0)), 2)
    assert same(first, again)
    assert not same(first[:1], first[1:])  # worker 0 and worker 1 rendered different words


def test_fresh_crops_below_a_share_of_one_need_a_pool() -> None:
    with pytest.raises(ValueError, match="need a synthetic pool"):
        MixedBatches(None, [], [], 0.0, batch_size=2, seed=0, fresh=fresh(0.5))
