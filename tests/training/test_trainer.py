"""Trainer pieces: weight transfer onto a larger charset, the learning-rate schedule."""

from __future__ import annotations

from itertools import pairwise

import pytest
import torch

from ocr_lstm.charset import Charset
from ocr_lstm.model.config import preset
from ocr_lstm.model.crnn import CRNN
from training.config import TrainConfig
from training.trainer import DistributedContext, lr_factor, transfer_weights


def test_transfer_onto_a_larger_charset_keeps_every_weight_and_shared_head_rows() -> None:
    old_charset = Charset("abc")
    new_charset = Charset("xcab")  # a reordered superset: rows must follow the symbols
    torch.manual_seed(0)
    source = CRNN(preset("tiny", old_charset.num_classes))
    torch.manual_seed(1)
    target = CRNN(preset("tiny", new_charset.num_classes))
    fresh_x = target.head.weight[1].clone()

    assert transfer_weights(source, old_charset, target, new_charset) == 3

    source_state, target_state = source.state_dict(), target.state_dict()
    for name, value in source_state.items():
        if not name.startswith("head."):
            torch.testing.assert_close(target_state[name], value, atol=0, rtol=0)
    for char in "abc":
        new_row, old_row = new_charset.encode(char)[0], old_charset.encode(char)[0]
        torch.testing.assert_close(target.head.weight[new_row], source.head.weight[old_row], atol=0, rtol=0)
        assert target.head.bias[new_row] == source.head.bias[old_row]
    torch.testing.assert_close(target.head.weight[0], source.head.weight[0], atol=0, rtol=0)  # the blank
    torch.testing.assert_close(target.head.weight[1], fresh_x, atol=0, rtol=0)  # "x" is new


def test_transfer_onto_the_same_charset_reproduces_the_model() -> None:
    charset = Charset("ab")
    source, target = CRNN(preset("tiny", 3)).eval(), CRNN(preset("tiny", 3)).eval()
    transfer_weights(source, charset, target, charset)
    images = torch.randn(1, 1, 32, 24)
    with torch.no_grad():
        torch.testing.assert_close(target(images), source(images))


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
