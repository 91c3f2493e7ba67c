"""Device and thread choices, in one place.

torch is imported only when the answer needs it: on Linux without an NVIDIA driver
``auto`` is the CPU at once, so the ONNX Runtime path, the default on the CPU, never
loads torch (issue 19: a second of start-up and a few hundred MB of memory).
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

from ocr_lstm.errors import UnavailableError

if TYPE_CHECKING:
    import torch

_CUDA_NAME = re.compile(r"cuda(:\d+)?")


def nvidia_driver_present() -> bool:
    """Whether CUDA could be there at all: on Linux, the NVIDIA driver's ``/proc`` entry; never on
    macOS; elsewhere unknown, so torch is asked."""
    if sys.platform.startswith("linux"):
        return os.path.exists("/proc/driver/nvidia/version")
    return sys.platform != "darwin"


def cuda_available() -> bool:
    """Whether torch sees a GPU; torch is imported only where a driver could serve one."""
    if not nvidia_driver_present():
        return False
    import torch

    return torch.cuda.is_available()


def device_name(preference: str = "auto") -> str:
    """The device to run on, as torch names it: ``auto`` is ``cuda`` when a GPU is available, else
    ``cpu``; ``cuda`` or ``cuda:N`` without a GPU is an :class:`UnavailableError`."""
    if preference == "auto":
        return "cuda" if cuda_available() else "cpu"
    if preference == "cpu":
        return preference
    if not _CUDA_NAME.fullmatch(preference):
        raise ValueError(f"unknown device {preference!r}: use auto, cpu, cuda or cuda:N")
    if not cuda_available():
        raise UnavailableError("CUDA was requested but no GPU is available")
    return preference


def select_device(preference: str = "auto") -> torch.device:
    """:func:`device_name` as a ``torch.device``, for training and the PyTorch runner."""
    import torch

    return torch.device(device_name(preference))


def configure_threads(threads: int | None) -> None:
    """Cap torch's intra-op threads (``None``: torch's choice); ONNX Runtime takes its own count.

    OpenMP's passive waiting is set where it can still take effect, before
    torch starts: at ``import ocr_lstm`` (see ``ocr_lstm/__init__.py``).
    """
    if threads:
        import torch

        torch.set_num_threads(threads)
