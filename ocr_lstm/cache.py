"""The per-machine cache folder: what is slow to make and the same each time (an ONNX export,
the word prior's vocabulary) is made once and kept here, never shipped or required."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_ENV = "OCR_LSTM_CACHE_DIR"


def cache_dir() -> Path:
    """``$OCR_LSTM_CACHE_DIR``, else ``$XDG_CACHE_HOME/ocr-lstm``, else ``~/.cache/ocr-lstm``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ocr-lstm"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` under a unique temporary name, then rename it: a reader, or another
    process writing the same entry, only ever sees a whole file. Raises ``OSError`` if unwritable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(data)
    try:
        os.chmod(tmp.name, 0o644)  # as a plain file; temporary files start private
        os.replace(tmp.name, path)
    except OSError:
        os.unlink(tmp.name)
        raise
