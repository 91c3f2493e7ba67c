"""A checkpoint's ONNX export, made once per machine and kept in the cache folder.

Tracing the CRNN to ONNX takes most of a second and needs torch, so doing it at every
start made every command pay for both (issue 19). The export is kept under
:func:`ocr_lstm.cache.cache_dir`, named by the SHA-256 of the checkpoint's two files and of what shapes
the export (:data:`EXPORT_REVISION`, the opset), so a retrained checkpoint gets an export of
its own, and a start that finds one loads it with ONNX Runtime alone. Each checkpoint has two
graphs: the general one, and the faster one for batches of a single width.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import NamedTuple

from ocr_lstm.cache import CACHE_ENV, cache_dir, write_atomically
from ocr_lstm.checkpoint import CheckpointInfo
from ocr_lstm.recognition.runtime.graph import OPSET

# Raise when export_onnx writes a different graph for the same weights: old exports are then ignored.
EXPORT_REVISION = 2  # 2: the uniform graph beside the ragged one


class OnnxExports(NamedTuple):
    """A checkpoint's two graphs (:func:`ocr_lstm.recognition.runtime.export.export_onnx`): files, or bytes."""

    ragged: Path | bytes
    uniform: Path | bytes


def export_key(weights_path: Path, weights: bytes | None = None) -> str:
    """Hex SHA-256 of the weights (``weights``: their bytes, when already read), their JSON and the export's
    revision: equal keys, equal graphs."""
    digest = hashlib.sha256(f"ocr-lstm onnx export {EXPORT_REVISION} opset {OPSET}\n".encode())
    digest.update(weights_path.read_bytes() if weights is None else weights)
    digest.update(weights_path.with_suffix(".json").read_bytes())
    return digest.hexdigest()


def cached_onnx(info: CheckpointInfo, directory: Path | None = None) -> OnnxExports:
    """The ONNX graphs of the checkpoint ``info`` describes: the cached files, exported first if absent.

    An unwritable cache is no error: the exports are then returned as bytes, made again next time.
    """
    if info.weights_path is None:
        raise ValueError("only a checkpoint read from a file has a cached export")
    weights = info.weights_path.read_bytes()  # read once: hashed here and, on a first start, exported
    stem = f"{info.name}-{export_key(info.weights_path, weights)[:32]}"
    folder = (directory or cache_dir()) / "onnx"
    paths = (folder / f"{stem}.onnx", folder / f"{stem}-uniform.onnx")
    if all(path.is_file() for path in paths):
        return OnnxExports(*paths)
    exports = _export(info, weights)
    try:
        for path, data in zip(paths, exports):
            write_atomically(path, data)
    except OSError as exc:
        warnings.warn(f"cannot keep the ONNX export in {folder} ({exc}); set {CACHE_ENV}", stacklevel=2)
        return OnnxExports(*exports)
    return OnnxExports(*paths)


def _export(info: CheckpointInfo, weights: bytes) -> tuple[bytes, bytes]:
    """The checkpoint's ragged and uniform graphs, exported in memory from the weights' bytes; the one
    step here that needs torch."""
    import io

    from ocr_lstm.checkpoint import checkpoint_from_info
    from ocr_lstm.recognition.runtime.export import export_onnx

    checkpoint = checkpoint_from_info(info, weights=weights)
    graphs = []
    for ragged in (True, False):
        buffer = io.BytesIO()
        export_onnx(checkpoint, buffer, ragged=ragged)
        graphs.append(buffer.getvalue())
    return graphs[0], graphs[1]
