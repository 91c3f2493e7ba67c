"""Which runner reads: ONNX Runtime on the CPU by default, PyTorch on a GPU or when asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import safetensors.torch

from ocr_lstm.checkpoint import Checkpoint, CheckpointInfo, checkpoint_from_info, load_checkpoint, read_checkpoint_info
from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.recognizer import Recognizer
from ocr_lstm.recognition.runtime import backend as backend_module
from ocr_lstm.recognition.runtime.backend import build_runner, resolve_backend
from ocr_lstm.recognition.runtime.onnx_runner import OnnxRunner
from ocr_lstm.recognition.runtime.torch_runner import TorchRunner

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


def test_build_runner_gives_the_runner_the_options_choose(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    info = read_checkpoint_info(tiny_model_path)
    loads: list[Path | None] = []

    def counted(info: CheckpointInfo, device: str = CPU, weights: bytes | None = None) -> Checkpoint:
        loads.append(info.weights_path)
        return checkpoint_from_info(info, device, weights)

    monkeypatch.setattr(backend_module, "checkpoint_from_info", counted)
    assert isinstance(build_runner(info, CPU, RecognizerOptions(threads=1)), OnnxRunner)
    assert not loads  # a file's checkpoint runs its cached export: no PyTorch model built
    torch_runner = build_runner(info, CPU, RecognizerOptions(backend="torch", channels_last=False))
    assert isinstance(torch_runner, TorchRunner) and torch_runner.backend == "torch"
    assert not torch_runner.channels_last and loads == [tiny_model_path]
    in_memory = load_checkpoint(tiny_model_path)
    assert isinstance(build_runner(in_memory.info(), CPU, RecognizerOptions(threads=1), in_memory), OnnxRunner)
    torch_runner = build_runner(info, CPU, RecognizerOptions(backend="torch"), in_memory)
    assert torch_runner.model is in_memory.model and len(loads) == 1  # the checkpoint given is the one run


def test_a_torch_recognizer_loads_its_checkpoint_once_and_runs_that_model(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[int] = []
    real = safetensors.torch.load_file

    def counted(path: str) -> dict:  # type: ignore[type-arg]
        loads.append(1)
        return real(path)

    monkeypatch.setattr("safetensors.torch.load_file", counted)
    recognizer = Recognizer(tiny_model_path, device="cpu", backend="torch")
    assert isinstance(recognizer.runner, TorchRunner)
    assert recognizer.runner.model is recognizer.model is recognizer.checkpoint.model
    assert loads == [1]


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
