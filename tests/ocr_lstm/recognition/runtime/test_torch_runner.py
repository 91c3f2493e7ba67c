"""The PyTorch runner: the model's own log-probabilities, in either memory layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.recognition.runtime.torch_runner import TorchRunner


def ragged_batch() -> tuple[np.ndarray, np.ndarray]:
    """Two crops padded as ``pad_batch`` pads them: the runner's numpy input."""
    rng = np.random.default_rng(0)
    images = np.zeros((2, 1, 32, 96), dtype=np.float32)
    images[0, :, :, :40] = rng.uniform(-1, 1, size=(1, 32, 40))
    images[1] = rng.uniform(-1, 1, size=(1, 32, 96))
    return images, np.array([40, 96])


def test_the_torch_runner_returns_the_models_log_probabilities_as_an_array(tiny_model_path: Path) -> None:
    model = load_checkpoint(tiny_model_path).model
    images, widths = ragged_batch()
    with torch.inference_mode():
        expected = model(torch.from_numpy(images), torch.from_numpy(widths)).numpy()
    actual = TorchRunner(model, torch.device("cpu"))(images, widths)
    assert isinstance(actual, np.ndarray) and actual.shape == (24, 2, model.config.num_classes)
    np.testing.assert_array_equal(actual, expected)


def test_channels_last_reads_as_the_default_layout(tiny_model_path: Path) -> None:
    images, widths = ragged_batch()
    plain = TorchRunner(load_checkpoint(tiny_model_path).model, torch.device("cpu"))(images, widths)
    model = load_checkpoint(tiny_model_path).model.to(memory_format=torch.channels_last)
    fast = TorchRunner(model, torch.device("cpu"), channels_last=True)(images, widths)
    np.testing.assert_allclose(fast, plain, atol=1e-4)
