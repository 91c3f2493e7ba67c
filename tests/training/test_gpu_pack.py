"""The lent-GPU path on the CPU: packed crops read back as the originals, the report, and the command's dry run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from word_images import DEJAVU, render_word

from ocr_lstm.charset import Charset
from ocr_lstm.data.splits import holdout_split
from ocr_lstm.preprocessing import PreprocessConfig
from ocr_lstm.synth.fonts import find_fonts
from training.config import TrainConfig
from training.crop_pool import load_labelled_pool
from training.gpu_report import gpu_busy, summary
from training.pack import FONT_MAX_BYTES, PACKED_MAX_WIDTH, pack_fonts, pack_set

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
TRAINING_FORM = PreprocessConfig(max_width=PACKED_MAX_WIDTH)


def assert_same_crops(original: Path, packed: Path) -> None:
    charset = Charset()
    first = load_labelled_pool(original, TRAINING_FORM, charset)
    second = load_labelled_pool(packed, TRAINING_FORM, charset)
    assert first.labels == second.labels
    assert all(np.array_equal(first.crop(i), second.crop(i)) for i in range(len(first)))


def test_packed_crops_read_back_as_training_reads_the_originals(tmp_path: Path) -> None:
    source = tmp_path / "words"
    (source / "images").mkdir(parents=True)
    lines = []
    for i, (word, height) in enumerate([("cat", 40), ("Street", 90), ("a", 20), ("wide words here", 60)]):
        name = f"images/{i}.{'jpg' if i % 2 else 'png'}"
        render_word(word, height=height).save(source / name)
        lines.append(f"{name}\t{word}\n")
    (source / "images" / "broken.png").write_bytes(b"not an image")
    lines.insert(2, "images/broken.png\tgone\n")
    (source / "labels.tsv").write_text("".join(lines))

    packed = tmp_path / "packed"
    assert pack_set(source, packed, TRAINING_FORM, workers=1) == 5
    rows = (packed / "labels.tsv").read_text().splitlines()
    assert [row.split("\t")[1] for row in rows] == ["cat", "Street", "gone", "a", "wide words here"]
    assert rows[2].startswith("images/00002.png") and (packed / "images" / "00002.png").read_bytes() == b"not an image"
    assert_same_crops(source, packed)
    # The same count in the same order: a seeded holdout picks the same crops.
    assert holdout_split(len(rows), 2, seed=1) == holdout_split(len(lines), 2, seed=1)


@pytest.mark.skipif(not (SHARED / "svt_train").is_dir(), reason="needs ../shared/data (the real sets)")
def test_a_real_training_set_packs_to_the_same_crops(tmp_path: Path) -> None:
    pack_set(SHARED / "svt_train", tmp_path / "svt_train", TRAINING_FORM, workers=2)
    assert_same_crops(SHARED / "svt_train", tmp_path / "svt_train")


@pytest.mark.skipif(not find_fonts(), reason="no fonts installed")
def test_fonts_are_packed_small_and_within_the_budget(tmp_path: Path) -> None:
    count = pack_fonts(tmp_path, budget=2_000_000)
    files = list((tmp_path / "fonts").iterdir())
    assert count == len(files) >= 1
    assert all(f.stat().st_size < FONT_MAX_BYTES for f in files)
    assert sum(f.stat().st_size for f in files) <= 2_000_000


def test_the_gpu_busy_share_is_the_mean_of_the_sm_column(tmp_path: Path) -> None:
    dmon = tmp_path / "dmon.txt"
    dmon.write_text("#Time        gpu     sm    mem    enc    dec    jpg    ofa\n"
                    "#HH:MM:SS    Idx      %      %      %      %      %      %\n"
                    " 10:00:00      0     80     20      0      0      0      0\n"
                    " 10:00:05      0     90     25      0      0      0      0\n"
                    " 10:00:10      0      -      -      -      -      -      -\n")
    assert gpu_busy(dmon) == pytest.approx(85.0)
    assert gpu_busy(tmp_path / "missing.txt") is None
    assert summary(tmp_path / "no_run", dmon) == {"gpu_sm_busy_percent": 85.0}


@pytest.mark.parametrize("name", ["gpu_small", "gpu_base"])
def test_the_gpu_configs_read_the_packed_crops_for_a_fed_timed_run(name: str) -> None:
    config = TrainConfig.from_file(name)
    assert config.data_workers >= 8 and config.fresh_synth > 0 and config.max_minutes > 0
    assert 512 <= config.batch_size <= 1024 and config.max_width == PACKED_MAX_WIDTH
    packed = {Path(r.path).name for r in config.real_sets} | {Path(p).name for p in config.val_sets}
    assert all(p.startswith("data/gpu/real/") for p in [r.path for r in config.real_sets] + config.val_sets)
    assert packed == {"iiit5k_train", "ic15_train", "svt_train", "ic13_born_digital_train", "evarest_train",
                      "svt", "ic13"}


@pytest.mark.slow
@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs the DejaVu fonts (make setup)")
@pytest.mark.skipif(shutil.which("git") is None, reason="counts what travels with git ls-files")
def test_the_gpu_commands_dry_run_trains_bundles_and_fits(tmp_path: Path) -> None:
    """Without ../shared or .gpu: synthetic data only, a tiny model for a few seconds on the CPU."""
    env = {**os.environ, "GPU_DIR": str(tmp_path / "no_pack"), "OUT": str(tmp_path / "out"),
           "OMP_WAIT_POLICY": "PASSIVE"}
    result = subprocess.run(["scripts/gpu_train.sh", "training/configs/gpu_small.toml", "8", "--dry-run"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "synthetic data only" in result.stdout
    assert "the GPU call would fit" in result.stdout and "travels: tree" in result.stdout
    out = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert {"gpu_small_last.safetensors", "gpu_small_last.json", "logs.tgz", "log.txt"} <= set(out)
    assert len(out) <= 8
