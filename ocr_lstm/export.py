"""ONNX export of the CRNN and an ONNX Runtime runner for it.

The exported graph takes ``images`` (B, 1, 32, W) in [-1, 1] and ``widths``
(B,) in pixels, and returns ``log_probs`` (T=W/4, B, C); batch and width are
dynamic. It holds no sequence packing: each ONNX ``LSTM`` node gets the
per-crop frame counts as its ``sequence_lens`` input instead, so the backward
direction of a short crop starts at its own last frame, not in the padding, and
the output matches the eager model's packed sequences. CTC decoding stays
outside the graph (``ocr_lstm.decoding``); the charset and preprocessing ride
along as metadata, so an ONNX file alone is enough to read crops.
"""

from __future__ import annotations

import importlib
import io
import json
import warnings
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ocr_lstm.checkpoint import Checkpoint
from ocr_lstm.model.crnn import CRNN, WIDTH_STRIDE

OPSET = 17
INPUT_IMAGES = "images"
INPUT_WIDTHS = "widths"
OUTPUT = "log_probs"


class _Unpacked(nn.Module):
    """The CRNN's forward without the packing branch, which tracing cannot follow.

    The CNN always masks the padding (the eager model does so for ragged batches);
    the LSTM's lengths are added to the graph after tracing.
    """

    def __init__(self, model: CRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.model.lstm(self.model.sequence_features(images, widths))
        return self.model.head(hidden).float().log_softmax(dim=-1)


def _require(module: str) -> Any:
    """Import onnx or onnxruntime (loaded only when used), or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{module} is not installed: pip install {module} (an ocr-lstm dependency)") from None


def export_onnx(checkpoint: Checkpoint | CRNN, path: str | Path | io.BytesIO) -> str | Path | io.BytesIO:
    """Write the model as ONNX to ``path`` (a file or a BytesIO); returns ``path``."""
    onnx = _require("onnx")
    from onnx import TensorProto, helper

    model = _cpu_copy(checkpoint.model if isinstance(checkpoint, Checkpoint) else checkpoint)
    example = (torch.zeros(2, 1, model.config.input_height, 64), torch.tensor([64, 40]))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The tracer's generic notes on LSTMs and batch sizes: the dynamic batch is tested.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Unpacked(model).eval(), example, buffer,  # type: ignore[arg-type]  # a file object works, unstubbed
            dynamo=False, opset_version=OPSET,
            input_names=[INPUT_IMAGES, INPUT_WIDTHS], output_names=[OUTPUT],
            dynamic_axes={INPUT_IMAGES: {0: "batch", 3: "width"}, INPUT_WIDTHS: {0: "batch"},
                          OUTPUT: {0: "frames", 1: "batch"}},
        )
    graph_model = onnx.load_from_string(buffer.getvalue())
    graph = graph_model.graph

    # frames = max(widths // 4, 1) as int32, fed to every LSTM as sequence_lens.
    graph.initializer.extend([
        helper.make_tensor("_stride", TensorProto.INT64, [], [WIDTH_STRIDE]),
        helper.make_tensor("_one", TensorProto.INT64, [], [1]),
    ])
    length_nodes = [
        helper.make_node("Div", [INPUT_WIDTHS, "_stride"], ["_frames"]),
        helper.make_node("Max", ["_frames", "_one"], ["_frames_min1"]),
        helper.make_node("Cast", ["_frames_min1"], ["_sequence_lens"], to=TensorProto.INT32),
    ]
    lstms = [node for node in graph.node if node.op_type == "LSTM"]
    if len(lstms) != model.config.lstm_layers:
        raise RuntimeError(f"expected {model.config.lstm_layers} LSTM nodes in the graph, found {len(lstms)}")
    for node in lstms:
        inputs = list(node.input) + [""] * (5 - len(node.input))
        inputs[4] = "_sequence_lens"
        del node.input[:]
        node.input.extend(inputs)
    nodes = length_nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)

    if isinstance(checkpoint, Checkpoint):
        props = {
            "charset": json.dumps(checkpoint.charset.to_dict(), ensure_ascii=False),
            "preprocess": json.dumps(asdict(checkpoint.preprocess)),
            "architecture": json.dumps(model.config.to_dict()),
            "name": checkpoint.name,
        }
        for key, value in props.items():
            graph_model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(graph_model)
    if isinstance(path, io.BytesIO):
        path.write(graph_model.SerializeToString())
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        onnx.save(graph_model, str(path))
    return path


def _cpu_copy(model: CRNN) -> CRNN:
    """A contiguous fp32 CPU copy with torch's LSTM (the gate LSTM has the same weights),
    so the caller's model keeps its device and memory format."""
    copy = CRNN(replace(model.config, lstm_impl="torch"))
    copy.load_state_dict({k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()})
    return copy.eval()


class OnnxRunner:
    """Runs an exported CRNN with ONNX Runtime on the CPU: ``(images, widths) -> log_probs``."""

    def __init__(self, source: str | Path | bytes, threads: int | None = None) -> None:
        ort = _require("onnxruntime")

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        if threads:
            options.intra_op_num_threads = threads
        # Idle pool threads would spin between batches on a shared machine (cf. OMP_WAIT_POLICY).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = source if isinstance(source, bytes) else str(source)
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    @classmethod
    def from_model(cls, checkpoint: Checkpoint | CRNN, threads: int | None = None) -> OnnxRunner:
        buffer = io.BytesIO()
        export_onnx(checkpoint, buffer)
        return cls(buffer.getvalue(), threads)

    def __call__(self, images: torch.Tensor | np.ndarray, widths: torch.Tensor | np.ndarray) -> np.ndarray:
        feeds = {
            INPUT_IMAGES: np.ascontiguousarray(np.asarray(images, dtype=np.float32)),
            INPUT_WIDTHS: np.asarray(widths, dtype=np.int64),
        }
        return self.session.run([OUTPUT], feeds)[0]


def max_difference(model: CRNN, onnx_model: str | Path | bytes, widths: tuple[int, ...] = (16, 60, 128, 512),
                   seed: int = 0) -> float:
    """Largest difference between ONNX Runtime's and the eager model's log-probs on a random
    ragged batch, over each crop's valid frames."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(len(widths), 1, model.config.input_height, max(widths))
    for i, width in enumerate(widths):
        images[i, :, :, :width] = torch.rand(1, model.config.input_height, width, generator=generator) * 2 - 1
    lengths = torch.tensor(widths)
    with torch.inference_mode():
        expected = _cpu_copy(model)(images, lengths).numpy()
    actual = OnnxRunner(onnx_model, threads=1)(images.numpy(), lengths.numpy())
    frames = CRNN.output_lengths(lengths).tolist()
    return float(max(np.abs(expected[:t, i] - actual[:t, i]).max() for i, t in enumerate(frames)))
