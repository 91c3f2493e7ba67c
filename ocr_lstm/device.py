"""Device and thread choices, in one place."""

from __future__ import annotations

import os

import torch


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cuda`` without a GPU is an error."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was requested but no GPU is available")
    return device


def configure_threads(threads: int | None) -> None:
    """Cap intra-op threads; OpenMP waits passively so a busy neighbour does not stall us.

    Spin-waiting OpenMP threads collapsed throughput 30x on a shared 2-core
    machine; ``OMP_WAIT_POLICY`` must be set before the OpenMP runtime starts,
    so the CLI also sets it at import time (see ``ocr_lstm.cli``).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if threads:
        torch.set_num_threads(threads)
