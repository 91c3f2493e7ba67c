"""Device and thread choices, in one place."""

from __future__ import annotations

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
    """Cap intra-op threads (``None``: torch's choice).

    OpenMP's passive waiting is set where it can still take effect, before
    torch starts: at ``import ocr_lstm`` (see ``ocr_lstm/__init__.py``).
    """
    if threads:
        torch.set_num_threads(threads)
