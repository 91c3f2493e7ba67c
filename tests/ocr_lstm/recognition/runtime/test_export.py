"""ONNX export, run by the OnnxRunner: parity with the eager model, metadata and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.cli import main
from ocr_lstm.recognition.runtime.export import export_onnx
from ocr_lstm.recognition.runtime.onnx_runner import OnnxRunner, max_difference

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def checkpoint(tiny_model_path: Path):
    return load_checkpoint(tiny_model_path)


@pytest.fixture(scope="module")
def runner(checkpoint) -> OnnxRunner:
    """Both graphs: the uniform batches below run the uniform one, the ragged ones the other."""
    return OnnxRunner.from_model(checkpoint, threads=1)


def _ragged_batch(widths: list[int], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(len(widths), 1, 32, max(widths))
    for i, width in enumerate(widths):
        images[i, :, :, :width] = torch.rand(1, 32, width, generator=generator) * 2 - 1
    return images, torch.tensor(widths)


@pytest.mark.parametrize(
    "widths",
    [[16], [100], [512], [64, 64, 64], [16, 256], [32, 48, 128, 20, 512], [40] * 9 + [200]],
    ids=lambda w: f"{len(w)}x{max(w)}",
)
def test_onnx_matches_eager_model_within_tolerance(checkpoint, runner: OnnxRunner, widths: list[int]) -> None:
    images, lengths = _ragged_batch(widths, seed=len(widths))
    with torch.inference_mode():
        expected = checkpoint.model(images, lengths).numpy()
    actual = runner(images.numpy(), lengths.numpy())
    assert actual.shape == expected.shape
    for i, frames in enumerate(checkpoint.model.output_lengths(lengths).tolist()):
        np.testing.assert_allclose(actual[:frames, i], expected[:frames, i], atol=TOLERANCE, rtol=0)


def test_crop_reads_the_same_alone_and_in_a_padded_batch(runner: OnnxRunner) -> None:
    images, lengths = _ragged_batch([48, 300], seed=3)
    alone = runner(images[:1, :, :, :48].numpy(), lengths[:1].numpy())
    batched = runner(images.numpy(), lengths.numpy())
    np.testing.assert_allclose(batched[:12, 0], alone[:, 0], atol=TOLERANCE, rtol=0)


class _Recording:
    """Stands for an ONNX Runtime session: records that it ran, and runs the real one."""

    def __init__(self, session, calls: list[str], name: str) -> None:
        self.session, self.calls, self.name = session, calls, name

    def run(self, *args, **kwargs):
        self.calls.append(self.name)
        return self.session.run(*args, **kwargs)


def test_batches_of_one_width_run_the_graph_without_masks_and_read_the_same(checkpoint) -> None:
    """The uniform graph is only faster: on a batch without padding it gives the ragged graph's output."""
    both = OnnxRunner.from_model(checkpoint, threads=1)
    ragged_only = io.BytesIO()
    export_onnx(checkpoint, ragged_only)
    masked = OnnxRunner(ragged_only.getvalue(), threads=1)
    calls: list[str] = []
    both.session = _Recording(both.session, calls, "ragged")
    both.uniform_session = _Recording(both.uniform_session, calls, "uniform")
    images, lengths = _ragged_batch([96] * 5, seed=5)
    np.testing.assert_allclose(both(images.numpy(), lengths.numpy()), masked(images.numpy(), lengths.numpy()),
                               atol=1e-5, rtol=0)
    images, lengths = _ragged_batch([96, 60], seed=6)
    both(images.numpy(), lengths.numpy())
    assert calls == ["uniform", "ragged"]


def test_the_uniform_graph_has_no_padding_masks(checkpoint) -> None:
    import onnx

    def multiplications(ragged: bool) -> int:
        buffer = io.BytesIO()
        export_onnx(checkpoint, buffer, ragged=ragged)
        return sum(node.op_type == "Mul" for node in onnx.load_from_string(buffer.getvalue()).graph.node)

    assert multiplications(ragged=False) < multiplications(ragged=True)


def test_export_carries_charset_and_preprocessing(checkpoint, tmp_path: Path) -> None:
    import onnx

    path = export_onnx(checkpoint, tmp_path / "model.onnx")
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert {"charset", "preprocess", "architecture"} <= props.keys()
    assert json.loads(props["charset"])["symbols"] == checkpoint.charset.symbols


def test_max_difference_compares_a_file_with_the_eager_model(checkpoint, tmp_path: Path) -> None:
    path = export_onnx(checkpoint, tmp_path / "model.onnx")
    assert 0 < max_difference(checkpoint.model, path) < TOLERANCE


def test_export_command_writes_and_checks_the_file(tiny_model_path: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "tiny.onnx"
    assert main(["export", "--model", str(tiny_model_path), "--output", str(output)]) == 0
    assert output.is_file()
    report = capsys.readouterr().out
    difference = float(report.rsplit(":", 1)[1])
    assert difference < TOLERANCE
