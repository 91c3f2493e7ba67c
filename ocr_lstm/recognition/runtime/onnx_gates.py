"""The last LSTM layer's four gates under ONNX Runtime, without torch (``ocr-lstm explain``).

ONNX's ``LSTM`` node returns the memories, never the gates. So :func:`gates_graph` gives the
checkpoint's export (:mod:`.onnx_cache`) the last LSTM node's input and weights as its outputs,
once per machine (with the ``onnx`` package, whose import alone takes most of a second), and keeps
that graph beside the export; :func:`replay_last_layer` runs it on one crop with ONNX Runtime and
replays the layer in numpy, one column at a time, in the article's words (docs/lstm.md). Importing
torch to trace the same gates with :class:`~ocr_lstm.model.gate_lstm.GateLSTM` took longer than
reading and drawing together; the two are tested equal (tests/ocr_lstm/recognition/runtime/test_onnx_gates.py).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ocr_lstm.errors import require
from ocr_lstm.preprocessing import pad_batch
from ocr_lstm.recognition.runtime.graph import INPUT_IMAGES, INPUT_WIDTHS
from ocr_lstm.recognition.runtime.onnx_runner import OnnxRunner

# The outputs gates_graph gives the export: the last LSTM node's input X (T, B, F) and its weights in
# ONNX's layout, W (D, 4H, F), R (D, 4H, H) and B (D, 8H), each stacking the gates i, o, f, c.
LAYER_INPUT, WEIGHT_INPUT, WEIGHT_RECURRENT, BIAS = "last_lstm_input", "last_lstm_W", "last_lstm_R", "last_lstm_B"
GATE_OUTPUTS = (LAYER_INPUT, WEIGHT_INPUT, WEIGHT_RECURRENT, BIAS)


class ReplayedGates(NamedTuple):
    """One direction of the layer, each (T, H) in input-column order, as ``GateRecord`` names them."""

    ignore: np.ndarray  # i_t
    forget: np.ndarray  # f_t
    candidate: np.ndarray  # N_t
    use: np.ndarray  # V_t
    long_term: np.ndarray  # LTM_t
    short_term: np.ndarray  # STM_t


def gates_graph(export: Path | bytes) -> Path | bytes:
    """``export`` (a file, or bytes when the cache is unwritable) with :data:`GATE_OUTPUTS` for outputs.

    A file's is kept beside it as ``<stem>-gates.onnx``, so it follows the export's key (weights and
    revision); bytes give bytes, made again at each call.
    """
    path = export.with_name(f"{export.stem}-gates.onnx") if isinstance(export, Path) else None
    if path is not None and path.is_file():
        return path
    data = _with_gate_outputs(export.read_bytes() if isinstance(export, Path) else export)
    if path is None:
        return data
    from ocr_lstm.cache import write_atomically

    try:
        write_atomically(path, data)
    except OSError as exc:
        warnings.warn(f"cannot keep the gates graph in {path.parent} ({exc})", stacklevel=2)
        return data
    return path


def _with_gate_outputs(export: bytes) -> bytes:
    onnx = require("onnx")
    from onnx import helper

    model = onnx.load_from_string(export)
    graph = model.graph
    lstms = [node for node in graph.node if node.op_type == "LSTM"]
    if not lstms:
        raise ValueError("the ONNX graph has no LSTM node")
    # Identity nodes give fixed names to what the exporter named freely (inputs and initializers).
    graph.node.extend(helper.make_node("Identity", [source], [name])
                      for name, source in zip(GATE_OUTPUTS, lstms[-1].input))
    # Only these outputs: ONNX Runtime then leaves out the last layer and the head.
    del graph.output[:]
    graph.output.extend(helper.make_empty_tensor_value_info(name) for name in GATE_OUTPUTS)
    return bytes(model.SerializeToString())


def replay_last_layer(graph: Path | bytes, crop: np.ndarray, threads: int | None = None) -> list[ReplayedGates]:
    """The gates of the last LSTM layer over one (32, W) grayscale crop, per direction (forward,
    then reverse); ``graph`` is what :func:`gates_graph` returned."""
    images, widths = pad_batch([crop])
    session = OnnxRunner(graph, threads).session
    layer_input, w, r, b = session.run(
        list(GATE_OUTPUTS), {INPUT_IMAGES: images.astype(np.float32), INPUT_WIDTHS: widths.astype(np.int64)}
    )
    return [_replay(layer_input[:, 0], w[d], r[d], b[d], reverse=d == 1) for d in range(w.shape[0])]


def _replay(events: np.ndarray, w: np.ndarray, r: np.ndarray, b: np.ndarray, reverse: bool) -> ReplayedGates:
    """ONNX's LSTM step (zero initial memories, no peepholes, its default activations) with every gate
    kept: ``events`` (T, F) are the columns' inputs E_t, each read after the one before it in time."""
    hidden = r.shape[1]
    steps = events.shape[0]
    from_events = events @ w.T + b[: 4 * hidden] + b[4 * hidden :]  # every column's share at once
    record = {name: np.empty((steps, hidden), np.float32) for name in ReplayedGates._fields}
    short_term = np.zeros(hidden, np.float32)
    long_term = np.zeros(hidden, np.float32)
    for t in reversed(range(steps)) if reverse else range(steps):
        z = from_events[t] + r @ short_term
        ignore, use, forget = (_sigmoid(z[k * hidden : (k + 1) * hidden]) for k in range(3))
        candidate = np.tanh(z[3 * hidden :])
        long_term = long_term * forget + candidate * ignore  # forget, learn, remember
        short_term = use * np.tanh(long_term)  # use
        for name, value in zip(ReplayedGates._fields, (ignore, forget, candidate, use, long_term, short_term)):
            record[name][t] = value
    return ReplayedGates(**record)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # the logistic function, without exp's overflow warnings
