"""DDP on CPU: two gloo processes train together, stay in sync, and only rank 0 writes checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.multiprocessing as mp
from training_testing import free_port, labelled_words

from training.config import RealSet, TrainConfig

WORLD_SIZE = 2
STEPS = 4


def ddp_worker(rank: int, port: int, config: dict[str, Any], report_dir: str) -> None:
    """One torchrun-style process: environment as torchrun sets it, then ``training.trainer.run``."""
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE), MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port), OMP_WAIT_POLICY="PASSIVE",
    )
    torch.set_num_threads(1)
    from training import trainer

    saved: list[str] = []
    trainers: list[trainer.Trainer] = []
    save_checkpoint, fit = trainer.save_checkpoint, trainer.Trainer.fit

    def recording_save(path: Any, *args: Any, **kwargs: Any) -> Path:
        saved.append(Path(path).name)
        return save_checkpoint(path, *args, **kwargs)

    def recording_fit(self: trainer.Trainer) -> dict[str, Any]:
        trainers.append(self)
        return fit(self)

    trainer.save_checkpoint = recording_save
    trainer.Trainer.fit = recording_fit
    summary = trainer.run(TrainConfig.from_dict(config))
    model = trainers[0].model
    report = {
        "summary": summary,
        "saved": saved,
        "wrapped": type(trainers[0].train_model).__name__,
        "checksum": sum(float(p.detach().double().abs().sum()) for p in model.parameters()),
    }
    Path(report_dir, f"rank{rank}.json").write_text(json.dumps(report))


@pytest.mark.slow
def test_two_gloo_processes_train_in_sync_and_save_once(tmp_path: Path) -> None:
    data = labelled_words(tmp_path / "words")
    config = TrainConfig(
        output=str(tmp_path / "run"), synth_count=0, real_sets=[RealSet(str(data))], steps=STEPS, val_every=2,
        min_validations=1, batch_size=4, warmup_steps=1, log_every=1, threads=1, device="cpu", seed=0,
    ).to_dict()

    mp.spawn(ddp_worker, args=(free_port(), config, str(tmp_path)), nprocs=WORLD_SIZE, join=True)

    reports = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(WORLD_SIZE)]
    for report in reports:
        assert report["wrapped"] == "DistributedDataParallel"
        assert report["summary"]["steps"] == STEPS
        assert report["summary"]["samples_seen"] == STEPS * 4 * WORLD_SIZE
    # Gradients were averaged: both replicas end with the same weights (different seeds at start).
    assert reports[0]["checksum"] == pytest.approx(reports[1]["checksum"], rel=1e-6)
    # Only rank 0 writes: last at each of the two validations, each a new best (no validation set), which
    # is last linked or copied, not written again.
    assert reports[0]["saved"] == ["last", "last"]
    assert reports[1]["saved"] == []
    run_dir = tmp_path / "run"
    assert (run_dir / "best.safetensors").read_bytes() == (run_dir / "last.safetensors").read_bytes()
    assert (run_dir / "last.safetensors").is_file() and (run_dir / "state.pt").is_file()
    assert json.loads((run_dir / "last.json").read_text())["metadata"]["steps"] == STEPS
