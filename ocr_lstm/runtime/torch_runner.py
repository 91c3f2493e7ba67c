"""The CRNN run by PyTorch, on the CPU or a GPU."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


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
    def __call__(self, images: torch.Tensor, widths: torch.Tensor) -> np.ndarray:
        images = images.to(self.device)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return self.model(images, widths.to(self.device)).cpu().numpy()
