"""The ONNX export cache: one export per checkpoint and machine, the same model as the checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ocr_lstm.checkpoint import CheckpointInfo, load_checkpoint, read_checkpoint_info, save_checkpoint
from ocr_lstm.recognition.runtime import onnx_cache
from ocr_lstm.recognition.runtime.onnx_cache import cached_onnx
from ocr_lstm.recognition.runtime.onnx_runner import max_difference

pytest.importorskip("onnxruntime")


def test_a_checkpoint_is_exported_once_and_read_back_from_the_cache(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = read_checkpoint_info(tiny_model_path)
    first = cached_onnx(info, tmp_path)
    for path in first:
        assert isinstance(path, Path) and path.parent == tmp_path / "onnx" and path.name.startswith("tiny-")
    assert isinstance(first.uniform, Path) and first.uniform.name.endswith("-uniform.onnx")

    def no_export(info: CheckpointInfo, weights: bytes) -> bytes:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_cache, "_export", no_export)
    assert cached_onnx(info, tmp_path) == first
    # No temporary left behind.
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == sorted(Path(p).name for p in first)


def test_the_cached_exports_compute_what_the_checkpoint_does(tiny_model_path: Path, tmp_path: Path) -> None:
    exported = cached_onnx(read_checkpoint_info(tiny_model_path), tmp_path)
    model = load_checkpoint(tiny_model_path).model
    assert max_difference(model, exported.ragged) < 1e-4
    assert max_difference(model, exported.uniform, widths=(96, 96, 96)) < 1e-4


def test_changed_weights_get_an_export_of_their_own(tiny_model_path: Path, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(tiny_model_path)
    first = cached_onnx(read_checkpoint_info(tiny_model_path), tmp_path / "cache")
    with torch.no_grad():
        checkpoint.model.head.bias.add_(1.0)
    retrained = save_checkpoint(tmp_path / "tiny", checkpoint.model, checkpoint.charset, checkpoint.preprocess)
    second = cached_onnx(read_checkpoint_info(retrained), tmp_path / "cache")
    assert first.ragged != second.ragged and first.uniform != second.uniform  # same name, new bytes: a new key
    assert max_difference(checkpoint.model, second.ragged) < 1e-4


def test_an_unwritable_cache_still_gives_the_export(tiny_model_path: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.warns(UserWarning, match="cannot keep the ONNX export"):
        exported = cached_onnx(read_checkpoint_info(tiny_model_path), blocked)
    assert isinstance(exported.ragged, bytes) and isinstance(exported.uniform, bytes)
    assert max_difference(load_checkpoint(tiny_model_path).model, exported.ragged) < 1e-4
