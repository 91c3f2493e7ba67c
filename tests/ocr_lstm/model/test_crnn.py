"""The CRNN: output shapes and the guarantee that padding never changes a crop's reading."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ocr_lstm.model.config import WIDTH_STRIDE, preset
from ocr_lstm.model.crnn import CRNN

NUM_CLASSES = 20


def trained_looking(model: CRNN, seed: int = 0) -> CRNN:
    """Give BatchNorm non-trivial statistics, as training would: fresh ones hide padding leaks."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                size = module.num_features
                module.running_mean.copy_(torch.rand(size, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(size, generator=generator) - 0.5)
    return model


@pytest.fixture(scope="module")
def model() -> CRNN:
    torch.manual_seed(0)
    return trained_looking(CRNN(preset("tiny", NUM_CLASSES))).eval()


@pytest.mark.parametrize("width", [16, 64, 100, 256])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_output_shape_is_quarter_width_by_batch_by_classes(model: CRNN, width: int, mode: str) -> None:
    model.train(mode == "train")
    try:
        out = model(torch.randn(3, 1, 32, width))
    finally:
        model.eval()
    assert out.shape == (width // WIDTH_STRIDE, 3, NUM_CLASSES)
    assert out.dtype == torch.float32


def test_output_is_log_probabilities(model: CRNN) -> None:
    with torch.no_grad():
        out = model(torch.randn(2, 1, 32, 48))
    assert torch.all(out <= 0)
    torch.testing.assert_close(out.exp().sum(-1), torch.ones(12, 2))


def test_output_lengths_are_quarter_widths_at_least_one() -> None:
    assert CRNN.output_lengths(torch.tensor([4, 16, 100, 2])).tolist() == [1, 4, 25, 1]


def test_training_mode_gradients_reach_every_parameter(model: CRNN) -> None:
    model.train()
    try:
        model(torch.randn(2, 1, 32, 32)).sum().backward()
        assert all(p.grad is not None for p in model.parameters())
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()


def test_a_crop_reads_the_same_alone_and_in_a_padded_batch(model: CRNN) -> None:
    generator = torch.Generator().manual_seed(1)
    widths = torch.tensor([40, 128, 16, 92])
    crops = [torch.rand(1, 1, 32, int(w), generator=generator) * 2 - 1 for w in widths]
    batch = torch.zeros(len(crops), 1, 32, int(widths.max()))
    for i, crop in enumerate(crops):
        batch[i, :, :, : crop.shape[-1]] = crop[0]
    with torch.no_grad():
        together = model(batch, widths)
        for i, crop in enumerate(crops):
            alone = model(crop)
            frames = alone.shape[0]
            torch.testing.assert_close(together[:frames, i], alone[:, 0], atol=1e-5, rtol=0)


def test_equal_widths_need_no_packing(model: CRNN) -> None:
    images = torch.randn(2, 1, 32, 40)
    with torch.no_grad():
        torch.testing.assert_close(model(images, torch.tensor([40, 40])), model(images))


def test_channels_last_gives_the_same_output(model: CRNN) -> None:
    images = torch.randn(3, 1, 32, 64)
    widths = torch.tensor([64, 32, 48])
    with torch.no_grad():
        expected = model(images, widths)
        fast = model.to(memory_format=torch.channels_last)
        try:
            actual = fast(images.contiguous(memory_format=torch.channels_last), widths)
        finally:
            model.to(memory_format=torch.contiguous_format)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("size", ["tiny", "small", "base"])
def test_presets_build_and_run(size: str) -> None:
    model = CRNN(preset(size, NUM_CLASSES)).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 32, 32)).shape == (8, 1, NUM_CLASSES)


def test_larger_presets_have_more_parameters() -> None:
    counts = [sum(p.numel() for p in CRNN(preset(s, NUM_CLASSES)).parameters()) for s in ("tiny", "small", "base")]
    assert counts == sorted(counts) and len(set(counts)) == 3
