"""Which runtime runs the model: the :class:`Runner` a Recognizer calls, and the choice of one."""

from __future__ import annotations

import importlib.util
from typing import Literal, Protocol

import numpy as np
import torch

from ocr_lstm.model.crnn import CRNN
from ocr_lstm.options import RecognizerOptions
from ocr_lstm.runtime.onnx_runner import OnnxRunner
from ocr_lstm.runtime.torch_runner import TorchRunner


class Runner(Protocol):
    """Padded crops to per-frame log-probabilities: images (B, 1, H, W) in [-1, 1] and their widths
    (B,) in, a (T, B, C) array out (frames beyond a crop's width are the caller's to ignore)."""

    backend: str  # what runs the model, for reports: "torch", "onnx"

    def __call__(self, images: torch.Tensor, widths: torch.Tensor, /) -> np.ndarray: ...


def resolve_backend(backend: str, device: torch.device) -> Literal["torch", "onnx"]:
    """``auto`` is ONNX Runtime on the CPU, which reads like PyTorch at 1.25x its batched
    speed and half its batch-1 latency (docs/performance.md), and PyTorch on a GPU."""
    if backend == "auto":
        return "onnx" if device.type == "cpu" and importlib.util.find_spec("onnxruntime") else "torch"
    if backend not in ("torch", "onnx"):
        raise ValueError(f"unknown backend {backend!r}; choose auto, torch or onnx")
    return backend  # type: ignore[return-value]


def build_runner(model: CRNN, device: torch.device, options: RecognizerOptions) -> Runner:
    """The runner ``options.backend`` chooses for ``model``, which is on ``device`` and in the memory
    layout ``options.channels_last`` asks for; ONNX Runtime runs an in-memory export of it."""
    if resolve_backend(options.backend, device) == "onnx":
        return OnnxRunner.from_model(model, options.threads)
    return TorchRunner(model, device, options.channels_last)
