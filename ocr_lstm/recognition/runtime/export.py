"""ONNX export of the CRNN, which :class:`~ocr_lstm.recognition.runtime.onnx_runner.OnnxRunner` runs.

The exported graph takes ``images`` (B, 1, 32, W) in [-1, 1] and ``widths``
(B,) in pixels, and returns ``log_probs`` (T=W/4, B, C); batch and width are
dynamic. It holds no sequence packing: each ONNX ``LSTM`` node gets the
per-crop frame counts as its ``sequence_lens`` input instead, so the backward
direction of a short crop starts at its own last frame, not in the padding, and
the output matches the eager model's packed sequences. CTC decoding stays
outside the graph (``ocr_lstm.recognition.decoding``); the charset and preprocessing ride
along as metadata, so an ONNX file alone is enough to read crops.

The CNN zeroes each crop's padding after every activation (so a crop reads the same in a
padded batch as alone); those multiplications also keep ONNX Runtime from running the
convolutions in its blocked (NCHWc) layout throughout, which costs 13-18 % of the model's time
(benchmarks/uniform_graph.py).
``ragged=False`` exports the graph without them, for batches whose crops share one width
(the same inputs, the same outputs there, bit for bit): what the runner uses for such batches.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import torch
from torch import nn

from ocr_lstm.checkpoint import Checkpoint
from ocr_lstm.errors import require
from ocr_lstm.model.config import WIDTH_STRIDE
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.recognition.runtime.graph import INPUT_IMAGES, INPUT_WIDTHS, OPSET, OUTPUT


class _Unpacked(nn.Module):
    """The CRNN's forward without the packing branch, which tracing cannot follow.

    With ``ragged`` the CNN masks the padding (the eager model does so for ragged batches);
    the LSTM's lengths are added to the graph after tracing.
    """

    def __init__(self, model: CRNN, ragged: bool) -> None:
        super().__init__()
        self.model = model
        self.ragged = ragged

    def forward(self, images: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        features = self.model.sequence_features(images, widths if self.ragged else None)
        hidden, _ = self.model.lstm(features)
        return self.model.head(hidden).float().log_softmax(dim=-1)


def export_onnx(
    checkpoint: Checkpoint | CRNN, path: str | Path | io.BytesIO, ragged: bool = True
) -> str | Path | io.BytesIO:
    """Write the model as ONNX to ``path`` (a file or a BytesIO); returns ``path``.

    ``ragged=False``: the graph for batches of one width, which does not mask padding.
    """
    onnx = require("onnx")  # loaded only when used
    from onnx import TensorProto, helper

    model = cpu_copy(checkpoint.model if isinstance(checkpoint, Checkpoint) else checkpoint)
    example = (torch.zeros(2, 1, model.config.input_height, 64), torch.tensor([64, 40]))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The tracer's generic notes on LSTMs and batch sizes: the dynamic batch is tested.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Unpacked(model, ragged).eval(), example, buffer,  # type: ignore[arg-type]  # a file object works, unstubbed
            dynamo=False, opset_version=OPSET,
            input_names=[INPUT_IMAGES, INPUT_WIDTHS], output_names=[OUTPUT],
            dynamic_axes={INPUT_IMAGES: {0: "batch", 3: "width"}, INPUT_WIDTHS: {0: "batch"},
                          OUTPUT: {0: "frames", 1: "batch"}},
        )
    graph_model = onnx.load_from_string(buffer.getvalue())
    graph = graph_model.graph
    if INPUT_WIDTHS not in {i.name for i in graph.input}:  # unused by a traced uniform graph, so dropped
        graph.input.append(helper.make_tensor_value_info(INPUT_WIDTHS, TensorProto.INT64, ["batch"]))

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


def cpu_copy(model: CRNN) -> CRNN:
    """A contiguous fp32 CPU copy with torch's LSTM (the gate LSTM has the same weights),
    so the caller's model keeps its device and memory format."""
    copy = CRNN(replace(model.config, lstm_impl="torch"))
    copy.load_state_dict({k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()})
    return copy.eval()
