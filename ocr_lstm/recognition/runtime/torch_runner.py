"""The CRNN run by PyTorch, on the CPU or a GPU."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def inference_model(model: nn.Module, device: str | torch.device, channels_last: bool) -> nn.Module:
    """``model`` itself, moved to ``device`` in eval mode and in the memory layout asked for."""
    model = model.to(device).eval()
    if channels_last:
        # +10-30% batched CPU inference measured for this CNN (docs/performance.md).
        model = model.to(memory_format=torch.channels_last)
    return model


class TorchRunner:
    """Runs a model with the CRNN's signature with PyTorch: ``(images, widths) -> log_probs`` (T, B, C).

    ``model`` is the checkpoint's CRNN, or a quantized or ``torch.compile``-d one, already on
    ``device``; ``channels_last`` feeds it images in that memory layout, which the model's weights
    should share.
    """

    backend = "torch"

    def __init__(self, model: nn.Module, device: torch.device, channels_last: bool = False) -> None:
        self.model = model
        self.device = device
        self.channels_last = channels_last

    @torch.inference_mode()
    def __call__(self, images: np.ndarray, widths: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(images).to(self.device)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return self.model(batch, torch.from_numpy(widths).to(self.device)).cpu().numpy()
