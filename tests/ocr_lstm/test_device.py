"""Device choice: CUDA when present, the CPU otherwise, a clear error for a missing GPU."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ocr_lstm import device
from ocr_lstm.device import configure_threads, device_name, nvidia_driver_present, select_device
from ocr_lstm.errors import UnavailableError

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")


@no_gpu
def test_auto_selects_the_cpu_without_a_gpu() -> None:
    assert select_device("auto") == torch.device("cpu")


def test_auto_selects_cuda_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device, "nvidia_driver_present", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto").type == "cuda"
    assert device_name("cuda:1") == "cuda:1"


def test_auto_without_a_driver_is_the_cpu_without_asking_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device, "nvidia_driver_present", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # would say cuda if it were asked
    assert device_name("auto") == "cpu"
    with pytest.raises(UnavailableError):
        device_name("cuda")


@pytest.mark.skipif(nvidia_driver_present(), reason="an NVIDIA driver is present")
def test_choosing_the_cpu_never_imports_torch() -> None:
    code = "import sys; from ocr_lstm.device import device_name; print(device_name('auto'), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["cpu", "False"]


def test_cpu_is_selected_when_asked() -> None:
    assert select_device("cpu") == torch.device("cpu")


@no_gpu
@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_cuda_without_a_gpu_raises_a_clear_error(name: str) -> None:
    with pytest.raises(UnavailableError, match="CUDA was requested but no GPU is available"):
        select_device(name)


def test_unknown_device_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown device 'quantum'"):
        select_device("quantum")


def test_configure_threads_caps_torch_threads() -> None:
    before = torch.get_num_threads()
    try:
        configure_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_configure_threads_none_leaves_threads_alone() -> None:
    before = torch.get_num_threads()
    configure_threads(None)
    assert torch.get_num_threads() == before
