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
from ocr_lstm.runtime.graph import OPSET

# Raise when export_onnx writes a different graph for the same weights: old exports are then ignored.
EXPORT_REVISION = 2  # 2: the uniform graph beside the ragged one


class OnnxExports(NamedTuple):
    """A checkpoint's two graphs (:func:`ocr_lstm.runtime.export.export_onnx`): files, or bytes."""

    ragged: Path | bytes
    uniform: Path | bytes


def export_key(weights_path: Path) -> str:
    """Hex SHA-256 of the weights, their JSON and the export's revision: equal keys, equal graphs."""
    digest = hashlib.sha256(f"ocr-lstm onnx export {EXPORT_REVISION} opset {OPSET}\n".encode())
    for path in (weights_path, weights_path.with_suffix(".json")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_onnx(info: CheckpointInfo, directory: Path | None = None) -> OnnxExports:
    """The ONNX graphs of the checkpoint ``info`` describes: the cached files, exported first if absent.

    An unwritable cache is no error: the exports are then returned as bytes, made again next time.
    """
    if info.weights_path is None:
        raise ValueError("only a checkpoint read from a file has a cached export")
    stem = f"{info.name}-{export_key(info.weights_path)[:32]}"
    folder = (directory or cache_dir()) / "onnx"
    paths = (folder / f"{stem}.onnx", folder / f"{stem}-uniform.onnx")
    if all(path.is_file() for path in paths):
        return OnnxExports(*paths)
    exports = _export(info.weights_path)
    try:
        for path, data in zip(paths, exports):
            write_atomically(path, data)
    except OSError as exc:
        warnings.warn(f"cannot keep the ONNX export in {folder} ({exc}); set {CACHE_ENV}", stacklevel=2)
        return OnnxExports(*exports)
    return OnnxExports(*paths)


def _export(weights_path: Path) -> tuple[bytes, bytes]:
    """The checkpoint's ragged and uniform graphs, exported in memory; the one step here that needs torch."""
    import io

    from ocr_lstm.checkpoint import load_checkpoint
    from ocr_lstm.runtime.export import export_onnx

    checkpoint = load_checkpoint(weights_path)
    graphs = []
    for ragged in (True, False):
        buffer = io.BytesIO()
        export_onnx(checkpoint, buffer, ragged=ragged)
        graphs.append(buffer.getvalue())
    return graphs[0], graphs[1]
