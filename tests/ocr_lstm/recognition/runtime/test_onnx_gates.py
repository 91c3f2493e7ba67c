"""The last LSTM layer's gates under ONNX Runtime: the export's graph with the layer's input and weights
as outputs, and a numpy replay of the layer that gives the gate LSTM's gates."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from word_images import render_word

from ocr_lstm.checkpoint import load_checkpoint, read_checkpoint_info
from ocr_lstm.preprocessing import ImagePreparation, PreprocessConfig, to_tensor
from ocr_lstm.recognition.runtime.onnx_cache import cached_onnx
from ocr_lstm.recognition.runtime.onnx_gates import ReplayedGates, gates_graph, replay_last_layer

pytest.importorskip("onnxruntime")


def crop_of(text: str, height: int = 48) -> np.ndarray:
    return ImagePreparation(PreprocessConfig()).prepare(render_word(text, height=height)).crops[0]


@pytest.mark.parametrize("text", ["a", "hello", "the gates of a long line of text"])
def test_the_replay_gives_the_gate_lstms_gates(tiny_model_path: Path, tmp_path: Path, text: str) -> None:
    crop = crop_of(text)
    replayed = replay_last_layer(gates_graph(cached_onnx(read_checkpoint_info(tiny_model_path), tmp_path).ragged),
                                 crop, threads=1)
    model = load_checkpoint(tiny_model_path, lstm_impl="gates").model
    images, _ = to_tensor([crop])
    with torch.no_grad():
        records = model.lstm.trace(model.sequence_features(images)).records[-1]
    assert len(replayed) == len(records) == 2  # forward, then reverse
    for gates, record in zip(replayed, records):
        for name in ReplayedGates._fields:
            expected = getattr(record, name)[:, 0].numpy()
            assert getattr(gates, name).shape == expected.shape == (crop.shape[1] // 4, 96)
            np.testing.assert_allclose(getattr(gates, name), expected, atol=1e-4, err_msg=name)


def test_the_gates_graph_is_kept_beside_the_export_and_made_once(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = cached_onnx(read_checkpoint_info(tiny_model_path), tmp_path).ragged
    assert isinstance(export, Path)
    graph = gates_graph(export)
    assert graph == export.with_name(f"{export.stem}-gates.onnx") and isinstance(graph, Path) and graph.is_file()
    monkeypatch.setitem(sys.modules, "onnx", None)  # a second call needs ONNX Runtime only
    assert gates_graph(export) == graph


def test_an_export_in_memory_gives_a_gates_graph_in_memory(tiny_model_path: Path, tmp_path: Path) -> None:
    export = cached_onnx(read_checkpoint_info(tiny_model_path), tmp_path).ragged
    assert isinstance(export, Path)
    in_memory = gates_graph(export.read_bytes())
    assert isinstance(in_memory, bytes)
    crop = crop_of("memory")
    from_file, from_bytes = replay_last_layer(gates_graph(export), crop), replay_last_layer(in_memory, crop)
    for a, b in zip(from_file, from_bytes):
        np.testing.assert_array_equal(a.long_term, b.long_term)
