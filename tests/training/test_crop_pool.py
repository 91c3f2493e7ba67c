"""Crop pools: crops stored back to back, saved and loaded; labelled sets decoded into them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from word_images import render_word

from ocr_lstm.charset import Charset
from ocr_lstm.preprocessing import PreprocessConfig
from ocr_lstm.synth.generator import SynthConfig
from training import crop_pool
from training.crop_pool import (
    CropPool,
    load_labelled_pool,
    load_or_render_synthetic,
    training_preprocess,
)


def test_from_crops_keeps_each_crop_and_label() -> None:
    rng = np.random.default_rng(0)
    crops = [(rng.integers(0, 256, (32, w), dtype=np.uint8), f"w{w}") for w in (16, 40, 8)]
    pool = CropPool.from_crops(crops, 32)
    assert len(pool) == 3
    assert pool.widths.tolist() == [16, 40, 8]
    for i, (crop, label) in enumerate(crops):
        np.testing.assert_array_equal(pool.crop(i), crop)
        assert pool.labels[i] == label


def test_save_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    pool = CropPool.from_crops([(rng.integers(0, 256, (32, w), dtype=np.uint8), "é") for w in (12, 20)], 32)
    pool.save(tmp_path / "pool")
    loaded = CropPool.load(tmp_path / "pool")
    assert loaded.labels == pool.labels and loaded.height == 32
    for i in range(2):
        np.testing.assert_array_equal(loaded.crop(i), pool.crop(i))


def test_labelled_pool_skips_unreadable_images_and_empty_labels(tmp_path: Path) -> None:
    render_word("good").save(tmp_path / "a.png")
    render_word("☃").save(tmp_path / "b.png")
    (tmp_path / "c.png").write_bytes(b"broken")
    (tmp_path / "labels.tsv").write_text("a.png\tgood\nb.png\t☃\nc.png\tbroken\n")
    preprocess = training_preprocess(PreprocessConfig(), 128)
    pool = load_labelled_pool(tmp_path, preprocess, Charset())
    assert pool.labels == ["good"]
    assert pool.crop(0).shape[0] == 32 and pool.crop(0).shape[1] <= 128


def test_validation_pool_keeps_labels_as_written(tmp_path: Path) -> None:
    render_word("cafe").save(tmp_path / "a.png")
    render_word("x").save(tmp_path / "b.png")
    (tmp_path / "labels.tsv").write_text("a.png\tCafé\nb.png\t☃\n", encoding="utf-8")
    preprocess = training_preprocess(PreprocessConfig(), 128)
    assert load_labelled_pool(tmp_path, preprocess, Charset()).labels == ["Caf"]
    assert load_labelled_pool(tmp_path, preprocess, Charset(), clean_labels=False).labels == ["Café", "☃"]


def test_training_preprocess_only_changes_the_width_bound() -> None:
    base = PreprocessConfig()
    bounded = training_preprocess(base, 200)
    assert bounded.max_width == 200
    kept = (bounded.height, bounded.min_width, bounded.vertical_ratio)
    assert kept == (base.height, base.min_width, base.vertical_ratio)


def test_subset_keeps_crops_and_labels_in_the_given_order() -> None:
    crops = [(np.full((32, 8 * (i + 1)), i, np.uint8), f"w{i}") for i in range(4)]
    pool = CropPool.from_crops(crops, 32)
    part = pool.subset([3, 1])
    assert part.labels == ["w3", "w1"]
    np.testing.assert_array_equal(part.crop(0), crops[3][0])
    np.testing.assert_array_equal(part.crop(1), crops[1][0])


def test_labelled_pool_reads_only_the_given_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i, word in enumerate(["one", "two", "three"]):
        render_word(word).save(tmp_path / f"{i}.png")
    (tmp_path / "labels.tsv").write_text("0.png\tone\n1.png\ttwo\n2.png\tthree\n")
    decoded: list[int] = []
    real_prepare = crop_pool.prepare_crop
    monkeypatch.setattr(crop_pool, "prepare_crop", lambda image, pre: decoded.append(1) or real_prepare(image, pre))
    pool = load_labelled_pool(tmp_path, training_preprocess(PreprocessConfig(), 128), Charset(), indices=[2, 0])
    assert pool.labels == ["three", "one"] and len(decoded) == 2


def test_synthetic_pool_is_rendered_once_per_seed_and_style(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[tuple[int, SynthConfig]] = []

    def fake_render(count: int, seed: int, synth: SynthConfig, *args: object) -> CropPool:
        rendered.append((seed, synth))
        return CropPool.from_crops([(np.full((32, 8 * (i + 1)), i, np.uint8), f"w{i}") for i in range(count)], 32)

    monkeypatch.setattr(crop_pool, "render_synthetic_pool", fake_render)
    cache, preprocess, charset = tmp_path / "pool", PreprocessConfig(), Charset()

    def load(seed: int, synth: SynthConfig) -> CropPool:
        return load_or_render_synthetic(cache, 3, seed, synth, preprocess, charset, workers=1)

    first = load(0, SynthConfig())
    assert load(0, SynthConfig()).labels == first.labels == ["w0", "w1", "w2"]
    assert len(rendered) == 1  # the second call read the cache
    load(0, SynthConfig(neighbours=0.5))
    load(1, SynthConfig(neighbours=0.5))
    assert [seed for seed, _ in rendered] == [0, 0, 1]  # a new style or seed renders anew
