"""Device and thread choices, in one place."""

from __future__ import annotations

import torch

from ocr_lstm.errors import UnavailableError


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cuda`` without a GPU is an error."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(preference)
    except RuntimeError as exc:  # torch's message for a bad name is long; the name is what matters
        raise ValueError(f"unknown device {preference!r}: use auto, cpu, cuda or cuda:N") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UnavailableError("CUDA was requested but no GPU is available")
    return device


def configure_threads(threads: int | None) -> None:
    """Cap intra-op threads (``None``: torch's choice).

    OpenMP's passive waiting is set where it can still take effect, before
    torch starts: at ``import ocr_lstm`` (see ``ocr_lstm/__init__.py``).
    """
    if threads:
        torch.set_num_threads(threads)
