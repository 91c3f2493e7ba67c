"""Which runner reads: ONNX Runtime on the CPU by default, PyTorch on a GPU or when asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocr_lstm.checkpoint import load_checkpoint, read_checkpoint_info
from ocr_lstm.options import RecognizerOptions
from ocr_lstm.recognizer import Recognizer
from ocr_lstm.runtime import backend as backend_module
from ocr_lstm.runtime.backend import build_runner, resolve_backend
from ocr_lstm.runtime.onnx_runner import OnnxRunner
from ocr_lstm.runtime.torch_runner import TorchRunner

CPU = "cpu"


def test_auto_backend_is_onnx_runtime_on_the_cpu_and_torch_on_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    assert resolve_backend("auto", CPU) == "onnx"
    assert resolve_backend("auto", "cuda:0") == "torch"
    assert resolve_backend("torch", CPU) == "torch"
    monkeypatch.setattr(backend_module.importlib.util, "find_spec", lambda name: None)
    assert resolve_backend("auto", CPU) == "torch"  # without onnxruntime
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend("tensorrt", CPU)


def test_build_runner_gives_the_runner_the_options_choose(tiny_model_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    info = read_checkpoint_info(tiny_model_path)
    loads: list[int] = []

    def model():  # type: ignore[no-untyped-def]
        loads.append(1)
        return load_checkpoint(tiny_model_path).model

    assert isinstance(build_runner(info, CPU, RecognizerOptions(threads=1), model), OnnxRunner)
    assert not loads  # a file's checkpoint runs its cached export: no PyTorch model built
    torch_runner = build_runner(info, CPU, RecognizerOptions(backend="torch", channels_last=False), model)
    assert isinstance(torch_runner, TorchRunner) and torch_runner.backend == "torch"
    assert not torch_runner.channels_last and loads == [1]
    in_memory = load_checkpoint(tiny_model_path).info()
    assert isinstance(build_runner(in_memory, CPU, RecognizerOptions(threads=1), model), OnnxRunner)
    assert loads == [1, 1]  # a checkpoint only in memory is exported from its model


def test_the_onnx_backend_reads_like_the_torch_backend(tiny_model_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(0)
    shapes = ((32, 60), (48, 400), (30, 20), (20, 100))
    images = [rng.integers(0, 256, size=shape, dtype=np.uint8) for shape in shapes]
    torch_results = Recognizer(tiny_model_path, device="cpu", threads=1, batch_size=3, backend="torch").recognize(
        images
    )
    onnx_recognizer = Recognizer(tiny_model_path, device="cpu", threads=1, batch_size=3, backend="onnx")
    onnx_results = onnx_recognizer.recognize(images)
    assert onnx_recognizer.backend == "onnx"
    assert [r.text for r in onnx_results] == [r.text for r in torch_results]
    for a, b in zip(onnx_results, torch_results):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-4)


def test_an_unknown_backend_is_refused(tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="backend"):
        Recognizer(tiny_model_path, device="cpu", backend="tensorrt")  # type: ignore[arg-type]
