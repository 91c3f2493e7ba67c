"""Crop pools: crops stored back to back, saved and loaded; labelled sets decoded into them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from word_images import render_word

from ocr_lstm.charset import Charset
from ocr_lstm.preprocessing import PreprocessConfig
from training.crop_pool import CropPool, load_labelled_pool, training_preprocess


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
    assert (bounded.height, bounded.min_width, bounded.vertical_ratio) == (base.height, base.min_width, base.vertical_ratio)
