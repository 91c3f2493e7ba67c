"""How a run ends: at its time budget decayed and saved, on SIGTERM saved, and a run with data workers resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_training_run import quick_config, read_log, word_folder

from ocr_lstm.checkpoint import load_checkpoint
from training.trainer import Trainer, lr_factor

ROOT = Path(__file__).resolve().parents[2]


def test_a_time_budget_ends_the_run_decayed_and_saved(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    config = quick_config(tmp_path, data, max_minutes=0.05, steps=100_000, warmup_steps=50, val_every=100_000,
                          lr=1e-3, min_lr_ratio=0.1, val_sets=[str(data)], log_every=5)
    trainer = Trainer(config)
    started = time.perf_counter()
    summary = trainer.fit()

    assert summary["ended"] == "time" and trainer.progress == 1.0
    assert 3.0 <= time.perf_counter() - started < 60
    assert 0 < summary["steps"] < 100_000
    # The last steps ran at the floor of the schedule laid over the time, not at its start.
    assert trainer.scheduler.get_last_lr()[0] == pytest.approx(1e-4, rel=0.3)
    run = tmp_path / "run"
    assert load_checkpoint(run / "last").metadata["steps"] == summary["steps"]
    assert (run / "best.safetensors").is_file()
    assert [int(row["step"]) for row in read_log(run / "val_log.csv")] == [0, summary["steps"]]  # before, at the end
    state = torch.load(run / "state.pt", weights_only=True)
    assert state["step"] == summary["steps"] and state["budget_used"] >= 3.0


def test_with_a_time_budget_the_schedule_follows_the_clock(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    trainer = Trainer(quick_config(tmp_path, data, max_minutes=10.0, steps=1000, warmup_steps=100))
    schedule = trainer.scheduler.lr_lambdas[0]
    for progress in (0.0, 0.05, 0.1, 0.5, 1.0):
        trainer.progress = progress
        assert schedule(7) == lr_factor(progress * 1000, trainer.config)  # the step count does not matter
    assert schedule(7) == pytest.approx(trainer.config.min_lr_ratio)


def test_a_resumed_time_budget_counts_the_time_already_spent(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    first = Trainer(quick_config(tmp_path, data, max_minutes=0.03, steps=1000, warmup_steps=10, val_every=10_000))
    assert first.fit()["ended"] == "time"
    again = Trainer(quick_config(tmp_path, data, max_minutes=0.03, steps=1000, warmup_steps=10, val_every=10_000))
    summary = again.fit()
    assert summary["ended"] == "already finished" and summary["steps"] == first.step  # no time was left


def test_state_is_saved_every_checkpoint_minutes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    saved: list[int] = []
    original = Trainer._save_state

    def recording(self: Trainer, sampler: object) -> None:
        saved.append(self.step)
        original(self, sampler)  # type: ignore[arg-type]

    monkeypatch.setattr(Trainer, "_save_state", recording)
    Trainer(quick_config(tmp_path, data, steps=6, val_every=100, checkpoint_minutes=1e-6)).fit()
    assert saved == [1, 2, 3, 4, 5, 6]  # each step outlasts the period; step 6 is the end's validation


def test_a_run_with_data_workers_trains_and_resumes_reseeded(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40, 56))
    first = Trainer(quick_config(tmp_path, data, steps=4, val_every=2, data_workers=2, augment=True))
    assert first.fit()["steps"] == 4
    resumed = Trainer(quick_config(tmp_path, data, steps=6, val_every=2, data_workers=2, augment=True))
    summary = resumed.fit()
    assert summary["steps"] == 6 and summary["samples_seen"] == 6 * 8
    assert resumed.scheduler.last_epoch == 6
    assert load_checkpoint(tmp_path / "run" / "last").metadata["steps"] == 6


def test_sigterm_saves_a_checkpoint_and_ends_the_run_cleanly(tmp_path: Path) -> None:
    """As ``timeout`` ends a run: SIGTERM to the whole process group, data workers included."""
    data = word_folder(tmp_path / "words", heights=(40,))
    run = tmp_path / "run"
    command = [
        sys.executable, "-m", "training.train", "--data", str(data), "--output", str(run), "--synth-count", "0",
        "--steps", "100000", "--batch-size", "8", "--device", "cpu",
        *(f"--set={item}" for item in ("data_workers=2", "log_every=1", "val_every=100000", "threads=1",
                                       "max_width=128", "warmup_steps=10")),
    ]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_lines(run / "train_log.csv")) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()[1]
        os.killpg(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["ended"] == "SIGTERM" and summary["steps"] >= 2
    assert "SIGTERM: stopped at step" in out
    assert load_checkpoint(run / "last").metadata["steps"] == summary["steps"]
    assert torch.load(run / "state.pt", weights_only=True)["step"] == summary["steps"]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.is_file() else []
