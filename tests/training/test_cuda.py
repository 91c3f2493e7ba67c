"""On a CUDA GPU: an AMP step trains, DDP over NCCL runs in a group of one, the GPU reads as the CPU does,
and the data workers hand over pinned batches. Skipped where there is no GPU (CI never has one)."""

from __future__ import annotations

import socket
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from test_training_run import quick_config, word_folder
from word_images import render_word

from ocr_lstm.charset import Charset
from ocr_lstm.recognition.recognizer import Recognizer
from training.crop_pool import CropPool
from training.loader import training_batches
from training.sampling import MixedBatches
from training.trainer import DistributedContext, Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def fake_batch(charset: Charset) -> tuple[torch.Tensor, ...]:
    images = torch.rand(8, 1, 32, 96, generator=torch.Generator().manual_seed(0)) * 2 - 1
    widths = torch.tensor([96, 96, 88, 80, 80, 64, 64, 48])
    words = ["cat", "dog", "sun", "lamp", "bird", "tree", "sky", "ox"]
    targets = torch.tensor([i for w in words for i in charset.encode(w)])
    return images, widths, targets, torch.tensor([len(w) for w in words]), torch.ones(len(words), dtype=torch.bool)


@pytest.mark.parametrize("amp_dtype", ["bf16", "fp16"])
def test_an_amp_step_changes_the_weights_and_keeps_them_finite(tmp_path: Path, amp_dtype: str) -> None:
    if amp_dtype == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    data = word_folder(tmp_path / "words", heights=(40,))
    trainer = Trainer(quick_config(tmp_path, data, device="cuda", amp_dtype=amp_dtype, lr=1e-2))
    assert trainer.amp_dtype == {"bf16": torch.bfloat16, "fp16": torch.float16}[amp_dtype]
    assert trainer.scaler.is_enabled() == (amp_dtype == "fp16")
    before = [p.detach().clone() for p in trainer.model.parameters()]
    for _ in range(8):  # fp16's scaler skips the steps whose gradients overflow while it finds its scale
        loss = trainer.train_step(*fake_batch(trainer.charset))
    assert np.isfinite(loss)
    after = list(trainer.model.parameters())
    assert all(bool(torch.isfinite(p).all()) for p in after)
    assert any(not torch.equal(a, b) for a, b in zip(before, after))


def test_auto_amp_takes_bf16_where_the_gpu_has_it(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    trainer = Trainer(quick_config(tmp_path, data, device="cuda"))
    assert trainer.amp_dtype == (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)


def test_ddp_over_nccl_with_one_process(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        trainer = Trainer(quick_config(tmp_path, data, device="cuda", steps=4, val_every=2, max_minutes=0.0),
                          DistributedContext(0, 1, 0))
        assert isinstance(trainer.train_model, torch.nn.parallel.DistributedDataParallel)
        summary = trainer.fit()
    finally:
        dist.destroy_process_group()
    assert summary["steps"] == 4 and summary["ended"] == "steps"
    assert (tmp_path / "run" / "last.safetensors").is_file()


def test_gpu_and_cpu_readings_agree() -> None:
    words = ["Street", "VIEW", "text", "2024", "hello"]
    images = [render_word(word, height=40 + 8 * i) for i, word in enumerate(words)]
    cpu = Recognizer(device="cpu", backend="torch", word_prior=None).recognize(images)
    gpu = Recognizer(device="cuda", backend="torch", word_prior=None).recognize(images)
    assert [r.text for r in gpu] == [r.text for r in cpu]
    # cuDNN convolutions may run in TF32: confidences agree to about a percent, readings exactly.
    assert [r.confidence for r in gpu] == pytest.approx([r.confidence for r in cpu], abs=1e-2)


def test_data_workers_hand_over_pinned_batches_alike_for_a_seed() -> None:
    rng = np.random.default_rng(0)
    pool = CropPool.from_crops([(rng.integers(0, 256, (32, 16 + 4 * (i % 9)), dtype=np.uint8), f"w{i}")
                                for i in range(40)], 32)
    sampler = MixedBatches(pool, [], [], 0.0, batch_size=4, seed=0)

    def draw() -> list[tuple[torch.Tensor, ...]]:
        return list(islice(training_batches(sampler, Charset(), None, 2, (0, 0, 0), pin_memory=True), 4))

    first, again = draw(), draw()
    assert all(batch[0].is_pinned() for batch in first)
    assert all(torch.equal(a, b) for x, y in zip(first, again) for a, b in zip(x, y))
