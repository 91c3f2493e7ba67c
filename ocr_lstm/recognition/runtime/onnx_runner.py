"""The CRNN exported to ONNX (:mod:`ocr_lstm.recognition.runtime.export`), run by ONNX Runtime on the CPU.

Running needs onnxruntime and numpy only; exporting (``from_model``) and the parity check
import torch when called.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ocr_lstm.errors import require
from ocr_lstm.model.config import output_frames
from ocr_lstm.recognition.runtime.graph import INPUT_IMAGES, INPUT_WIDTHS, OUTPUT

if TYPE_CHECKING:
    from ocr_lstm.checkpoint import Checkpoint
    from ocr_lstm.model.crnn import CRNN


class OnnxRunner:
    """Runs an exported CRNN with ONNX Runtime on the CPU: ``(images, widths) -> log_probs``.

    ``source`` is the general (ragged) graph; ``uniform``, when given, the faster graph without
    padding masks (:func:`ocr_lstm.recognition.runtime.export.export_onnx`, ``ragged=False``), run for
    batches whose crops all fill the batch's width.
    """

    backend = "onnx"

    def __init__(
        self, source: str | Path | bytes, threads: int | None = None, uniform: str | Path | bytes | None = None
    ) -> None:
        self.session = _session(source, threads)
        self.uniform_session = None if uniform is None else _session(uniform, threads)

    @classmethod
    def from_model(cls, checkpoint: Checkpoint | CRNN, threads: int | None = None) -> OnnxRunner:
        """Export ``checkpoint`` (both graphs) in memory and run that."""
        from ocr_lstm.recognition.runtime.export import export_onnx

        ragged, uniform = io.BytesIO(), io.BytesIO()
        export_onnx(checkpoint, ragged)
        export_onnx(checkpoint, uniform, ragged=False)
        return cls(ragged.getvalue(), threads, uniform.getvalue())

    def __call__(self, images: np.ndarray, widths: np.ndarray) -> np.ndarray:
        feeds = {
            INPUT_IMAGES: np.ascontiguousarray(np.asarray(images, dtype=np.float32)),
            INPUT_WIDTHS: np.asarray(widths, dtype=np.int64),
        }
        session = self.session
        if self.uniform_session is not None and bool((feeds[INPUT_WIDTHS] == images.shape[-1]).all()):
            session = self.uniform_session
        return session.run([OUTPUT], feeds)[0]


def _session(source: str | Path | bytes, threads: int | None) -> Any:
    ort = require("onnxruntime")  # loaded only when used

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    # Idle pool threads would spin between batches on a shared machine (cf. OMP_WAIT_POLICY).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model = source if isinstance(source, bytes) else str(source)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def max_difference(model: CRNN, onnx_model: str | Path | bytes, widths: tuple[int, ...] = (16, 60, 128, 512),
                   seed: int = 0) -> float:
    """Largest difference between ONNX Runtime's and the eager model's log-probs on a random
    ragged batch, over each crop's valid frames."""
    import torch

    from ocr_lstm.recognition.runtime.export import cpu_copy

    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(len(widths), 1, model.config.input_height, max(widths))
    for i, width in enumerate(widths):
        images[i, :, :, :width] = torch.rand(1, model.config.input_height, width, generator=generator) * 2 - 1
    lengths = torch.tensor(widths)
    with torch.inference_mode():
        expected = cpu_copy(model)(images, lengths).numpy()
    actual = OnnxRunner(onnx_model, threads=1)(images.numpy(), lengths.numpy())
    frames = output_frames(widths).tolist()
    return float(max(np.abs(expected[:t, i] - actual[:t, i]).max() for i, t in enumerate(frames)))
