"""Device choice: CUDA when present, the CPU otherwise, a clear error for a missing GPU."""

from __future__ import annotations

import pytest
import torch

from ocr_lstm.device import configure_threads, select_device
from ocr_lstm.errors import UnavailableError

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")


@no_gpu
def test_auto_selects_the_cpu_without_a_gpu() -> None:
    assert select_device("auto") == torch.device("cpu")


def test_auto_selects_cuda_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto").type == "cuda"


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
