"""Which runtime runs the model: the :class:`Runner` a Recognizer calls, and the choice of one."""

from __future__ import annotations

import importlib.util
from typing import Literal, Protocol

import numpy as np

from ocr_lstm.checkpoint import Checkpoint, CheckpointInfo, checkpoint_from_info
from ocr_lstm.recognition.options import RecognizerOptions


class Runner(Protocol):
    """Padded crops to per-frame log-probabilities: images (B, 1, H, W) float32 in [-1, 1] and their
    widths (B,) in, a (T, B, C) array out (frames beyond a crop's width are the caller's to ignore)."""

    backend: str  # what runs the model, for reports: "torch", "onnx"

    def __call__(self, images: np.ndarray, widths: np.ndarray, /) -> np.ndarray: ...


def resolve_backend(backend: str, device: str) -> Literal["torch", "onnx"]:
    """``auto`` is ONNX Runtime on the CPU, which reads like PyTorch at 1.25x its batched
    speed and half its batch-1 latency (docs/performance.md), and PyTorch on a GPU."""
    if backend == "auto":
        return "onnx" if device == "cpu" and importlib.util.find_spec("onnxruntime") else "torch"
    if backend not in ("torch", "onnx"):
        raise ValueError(f"unknown backend {backend!r}; choose auto, torch or onnx")
    return backend  # type: ignore[return-value]


def build_runner(
    info: CheckpointInfo, device: str, options: RecognizerOptions, checkpoint: Checkpoint | None = None
) -> Runner:
    """The runner ``options.backend`` chooses for the checkpoint ``info`` describes, on ``device``.

    ONNX Runtime runs the checkpoint file's cached export (:mod:`.onnx_cache`: no PyTorch model is
    built), or for a ``checkpoint`` held only in memory an export of its model made now. PyTorch runs
    ``checkpoint``'s model, loaded from ``info`` when not given, on ``device`` in eval mode.
    """
    if resolve_backend(options.backend, device) == "onnx":
        from ocr_lstm.recognition.runtime.onnx_runner import OnnxRunner

        if info.weights_path is not None and checkpoint is None:
            from ocr_lstm.recognition.runtime.onnx_cache import cached_onnx

            ragged, uniform = cached_onnx(info)
            return OnnxRunner(ragged, options.threads, uniform)
        return OnnxRunner.from_model(checkpoint or checkpoint_from_info(info), options.threads)
    from ocr_lstm.device import configure_threads, select_device
    from ocr_lstm.recognition.runtime.torch_runner import TorchRunner, inference_model

    configure_threads(options.threads)
    model = inference_model((checkpoint or checkpoint_from_info(info, device)).model, device, options.channels_last)
    return TorchRunner(model, select_device(device), options.channels_last)
