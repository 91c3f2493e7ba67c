"""Trainer pieces: the start of a fine-tune, the learning-rate schedule."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import torch

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import load_checkpoint, save_checkpoint
from ocr_lstm.model.config import preset
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig
from training.config import TrainConfig
from training.trainer import DistributedContext, Trainer, lr_factor


def test_fine_tuning_keeps_the_parent_checkpoints_preprocessing(tmp_path: Path) -> None:
    charset = Charset("abc")
    preprocess = PreprocessConfig(min_width=24, max_width=320, vertical_ratio=2.0)
    torch.manual_seed(0)
    parent = save_checkpoint(tmp_path / "parent", CRNN(preset("tiny", charset.num_classes)), charset, preprocess)
    trainer = Trainer(TrainConfig(init=str(parent), charset="xy", output=str(tmp_path / "run"), device="cpu"))
    assert trainer.preprocess == preprocess
    assert trainer.charset.symbols == "abcxy"
    assert load_checkpoint(trainer.save("last")).preprocess == preprocess


def test_a_run_from_scratch_uses_the_default_preprocessing(tmp_path: Path) -> None:
    trainer = Trainer(TrainConfig(output=str(tmp_path / "run"), device="cpu"))
    assert trainer.preprocess == PreprocessConfig()


def test_lr_warms_up_linearly_then_decays_by_cosine_to_the_floor() -> None:
    config = TrainConfig(steps=1000, warmup_steps=100, min_lr_ratio=0.05)
    factors = [lr_factor(step, config) for step in range(1000)]
    assert factors[0] == pytest.approx(0.01)
    assert factors[49] == pytest.approx(0.5)
    assert factors[99] == pytest.approx(1.0)
    assert factors[100] == pytest.approx(1.0)
    assert all(a <= b for a, b in pairwise(factors[:101]))
    assert all(a >= b for a, b in pairwise(factors[100:]))
    assert factors[550] == pytest.approx(0.05 + 0.95 * 0.5)  # half way through the decay
    assert lr_factor(1000, config) == pytest.approx(0.05)
    assert lr_factor(5000, config) == pytest.approx(0.05)


def test_distributed_context_reads_torchrun_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    ctx = DistributedContext.from_env()
    assert (ctx.rank, ctx.world_size, ctx.local_rank, ctx.is_main) == (3, 4, 1, False)


def test_distributed_context_defaults_to_a_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    ctx = DistributedContext.from_env()
    assert ctx.world_size == 1 and ctx.is_main


def test_auto_amp_tries_a_bf16_step_on_a_copy_and_else_takes_fp16(monkeypatch: pytest.MonkeyPatch) -> None:
    from torch import nn

    from training.trainer import _amp_dtype

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    cpu = torch.device("cpu")  # autocast("cuda") does nothing here: the trial's logic is what is tested
    model = CRNN(preset("tiny", 10))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert _amp_dtype("auto", model, cpu) == torch.bfloat16
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # batch-norm statistics too
    assert all(p.grad is None for p in model.parameters())

    class NoBf16(nn.Module):
        def forward(self, images: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("\"_thnn_fused_lstm_cell_cuda\" not implemented for 'BFloat16'")

    assert _amp_dtype("auto", NoBf16(), cpu) == torch.float16
    assert _amp_dtype("fp16", model, cpu) == torch.float16 and _amp_dtype("bf16", NoBf16(), cpu) == torch.bfloat16



@pytest.mark.parametrize("frozen", [True, False])
def test_freeze_norm_stats_keeps_the_batch_norm_statistics_while_the_weights_learn(
    tmp_path: Path, frozen: bool
) -> None:
    trainer = Trainer(TrainConfig(output=str(tmp_path / "run"), device="cpu", charset="ab",
                                  freeze_norm_stats=frozen))
    norm = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    stats, scale = norm.running_mean.clone(), norm.weight.detach().clone()
    torch.manual_seed(0)
    images = torch.rand(2, 1, trainer.preprocess.height, 48)
    trainer.train_step(images, torch.tensor([48, 40]), torch.tensor([1, 2, 2]), torch.tensor([2, 1]),
                       torch.tensor([True, False]))
    assert torch.equal(norm.running_mean, stats) == frozen
    assert not torch.equal(norm.weight, scale)  # its scale learns either way
