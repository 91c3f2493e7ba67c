"""Crop pools: crops stored back to back, saved and loaded; labelled sets decoded into them."""

from __future__ import annotations

import time
from collections.abc import Callable
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


RenderTasks = list[tuple[Path, crop_pool.RenderJob]]


QUICK = crop_pool.RenderSpeed(1.0, 500.0)


def fake_renderer(rendered: list[str], stop_after: int | None = None, speed: crop_pool.RenderSpeed = QUICK):
    """Stands in for the render processes: they start and go at ``speed``, shard ``NNNNN-n`` gets
    ``n`` crops labelled by its job's seed; ``stop_after`` shards in, Ctrl-C."""

    def render_into(parts: Path, todo: RenderTasks, height: int, workers: int, total: int,
                    announce: Callable[[crop_pool.RenderSpeed], None]) -> None:
        announce(speed)
        for shard, (seed, count, *_) in todo:
            if stop_after is not None and len(rendered) == stop_after:
                raise KeyboardInterrupt
            rendered.append(shard.name)
            crops = [(np.full((height, 8 * (i + 1)), i, np.uint8), f"{seed}-{i}") for i in range(count)]
            CropPool.from_crops(crops, height).save(shard)

    return render_into


def test_synthetic_pool_is_rendered_once_per_seed_and_style(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    monkeypatch.setattr(crop_pool, "_render_into", fake_renderer(rendered))
    cache, preprocess, charset = tmp_path / "pool", PreprocessConfig(), Charset()

    def load(seed: int, synth: SynthConfig) -> CropPool:
        return load_or_render_synthetic(cache, 3, seed, synth, preprocess, charset, workers=1)

    first = load(0, SynthConfig())
    assert load(0, SynthConfig()).labels == first.labels == ["0-0", "0-1", "0-2"]
    assert len(rendered) == 1  # the second call read the cache
    assert load(0, SynthConfig(neighbours=0.5)).labels == first.labels
    assert load(1, SynthConfig(neighbours=0.5)).labels == ["100003-0", "100003-1", "100003-2"]
    assert len(rendered) == 3  # a new style or seed renders anew
    assert not (tmp_path / "pool.parts").exists()  # the shards are gone once the pool is whole


def test_rendering_says_how_many_crops_where_and_about_how_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 12 crops in 2 jobs of 6 on 2 processes at 0.05 crops/s each: 2 min once started
    monkeypatch.setattr(crop_pool, "_render_into", fake_renderer([], speed=crop_pool.RenderSpeed(9.6, 0.05)))
    monkeypatch.setattr(crop_pool.os, "cpu_count", lambda: 2)
    load_or_render_synthetic(tmp_path / "pool", 12, 0, SynthConfig(), PreprocessConfig(), Charset(), workers=2,
                             chunk=6)
    assert capsys.readouterr().err.splitlines() == [
        f"rendering 12 synthetic crops into {tmp_path / 'pool.parts'} with 2 processes (started in 10 s): about "
        "2 min more at the 0 crops/s a process renders here now; Ctrl-C keeps what is rendered and the same "
        "command continues from it"
    ]


def test_the_estimate_divides_the_crops_among_the_processes() -> None:
    speed = crop_pool.RenderSpeed(start_seconds=3.0, crops_per_second=100.0)
    assert speed.seconds(500, processes=1) == pytest.approx(5.0)
    assert speed.seconds(500, processes=2) == pytest.approx(2.5)


def test_the_render_rate_is_measured_on_the_jobs_own_kind_of_crop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate's rate is timed here, not written down: a slower machine gets a longer estimate."""
    job = (0, 10, SynthConfig(), PreprocessConfig(), Charset().symbols)
    rate = crop_pool.measure_render_speed(job, crops=4).crops_per_second
    assert rate > 0
    real_render = crop_pool.render_crops

    def slow_render(*args: object) -> list:
        time.sleep(0.5)
        return real_render(*args)

    monkeypatch.setattr(crop_pool, "render_crops", slow_render)
    assert crop_pool.measure_render_speed(job, crops=4).crops_per_second < rate


def test_an_interrupted_render_keeps_its_shards_and_the_next_start_renders_only_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, preprocess, charset = tmp_path / "pool", PreprocessConfig(), Charset()
    rendered: list[str] = []
    monkeypatch.setattr(crop_pool, "_render_into", fake_renderer(rendered, stop_after=2))
    with pytest.raises(KeyboardInterrupt):
        load_or_render_synthetic(cache, 7, 0, SynthConfig(), preprocess, charset, workers=1, chunk=3)
    assert sorted(path.name for path in (tmp_path / "pool.parts").iterdir()) == ["00000-3", "00001-3", "key.json"]
    assert not cache.exists()
    capsys.readouterr()

    # The next start asks for 8 crops, not 7: the two full shards still fit.
    rendered.clear()
    monkeypatch.setattr(crop_pool, "_render_into", fake_renderer(rendered))
    pool = load_or_render_synthetic(cache, 8, 0, SynthConfig(), preprocess, charset, workers=1, chunk=3)
    assert rendered == ["00002-2"]
    assert "rendering 2 of 8 (6 kept from an earlier start) synthetic crops" in capsys.readouterr().err
    assert pool.labels == [f"{seed}-{i}" for seed, n in ((0, 3), (1, 3), (2, 2)) for i in range(n)]
    np.testing.assert_array_equal(pool.crop(4), np.full((32, 16), 1, np.uint8))


@pytest.mark.slow
def test_ctrl_c_during_a_real_render_keeps_the_shards_and_the_rerun_gives_the_same_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Render processes (spawned) and all: the pool continued after Ctrl-C is the one an uninterrupted render gives."""
    synth, preprocess, charset = SynthConfig(background_dirs=()), PreprocessConfig(), Charset()
    real_save, saves = CropPool.save, []

    def save_then_interrupt(pool: CropPool, path: Path) -> None:
        saves.append(path)
        if len(saves) == 3:
            raise KeyboardInterrupt
        real_save(pool, path)

    cache = tmp_path / "pool"
    with monkeypatch.context() as patch:
        patch.setattr(CropPool, "save", save_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            load_or_render_synthetic(cache, 6, 5, synth, preprocess, charset, workers=1, chunk=2)
    assert f"stopped: 4 of 6 crops are kept in {tmp_path / 'pool.parts'}" in capsys.readouterr().err
    pool = load_or_render_synthetic(cache, 6, 5, synth, preprocess, charset, workers=1, chunk=2)
    assert "rendering 2 of 6 (4 kept from an earlier start)" in capsys.readouterr().err
    whole = load_or_render_synthetic(tmp_path / "whole", 6, 5, synth, preprocess, charset, workers=1, chunk=2)
    assert pool.labels == whole.labels
    for i in range(6):
        np.testing.assert_array_equal(pool.crop(i), whole.crop(i))
