"""Bundling a training checkpoint: fp16 weights that load back; the raw weights of an EMA run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import load_checkpoint, save_checkpoint
from ocr_lstm.model.config import preset
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig
from training.bundle import main


def saved_run(folder: Path, seed: int, raw_seed: int | None = None) -> Path:
    """A run folder whose ``last`` holds one model and, given ``raw_seed``, whose
    ``state.pt`` holds another (as a run with a moving average keeps them); without
    it, a state as runs wrote before they kept raw weights."""
    charset = Charset("abc")
    torch.manual_seed(seed)
    model = CRNN(preset("tiny", charset.num_classes))
    last = save_checkpoint(folder / "last", model, charset, PreprocessConfig(), {"steps": 7})
    state: dict = {"step": 7, "model": {}}
    if raw_seed is not None:
        torch.manual_seed(raw_seed)
        state["model"] = CRNN(preset("tiny", charset.num_classes)).state_dict()
    torch.save(state, folder / "state.pt")
    return last.with_suffix("")


def test_bundle_halves_the_weights_and_keeps_the_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = saved_run(tmp_path, seed=0)
    assert main([str(source), "--output", str(tmp_path / "bundled")]) == 0
    assert "MB" in capsys.readouterr().out
    bundled, original = load_checkpoint(tmp_path / "bundled"), load_checkpoint(source)
    assert bundled.metadata["source_checkpoint"] == str(source)
    assert (tmp_path / "bundled.safetensors").stat().st_size < 0.6 * (tmp_path / "last.safetensors").stat().st_size
    for name, value in original.model.state_dict().items():
        torch.testing.assert_close(bundled.model.state_dict()[name].float(), value.float(), atol=2e-3, rtol=2e-3)


def test_raw_weights_come_from_the_run_state(tmp_path: Path) -> None:
    source = saved_run(tmp_path, seed=0, raw_seed=1)
    assert main([str(source), "--output", str(tmp_path / "raw"), "--raw-weights"]) == 0
    raw = load_checkpoint(tmp_path / "raw")
    torch.manual_seed(1)
    expected = CRNN(preset("tiny", 4)).state_dict()["head.weight"]
    torch.testing.assert_close(raw.model.state_dict()["head.weight"], expected, atol=2e-3, rtol=2e-3)
    assert raw.metadata["weights"].startswith("raw")


def test_raw_weights_from_an_older_state_without_them_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = saved_run(tmp_path, seed=0)
    assert main([str(source), "--output", str(tmp_path / "raw"), "--raw-weights"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error:") and "no raw weights" in error and error.count("\n") == 1
    assert not (tmp_path / "raw.safetensors").exists()


def test_average_is_the_mean_of_the_checkpoints_weights(tmp_path: Path) -> None:
    sources = [saved_run(tmp_path / f"run{seed}", seed=seed) for seed in (0, 1, 2)]
    assert main([*map(str, sources), "--average", "--output", str(tmp_path / "soup")]) == 0
    soup = load_checkpoint(tmp_path / "soup")
    states = [load_checkpoint(source).model.state_dict() for source in sources]
    for name in ("head.weight", "features.layers.0.weight", "features.layers.1.running_var"):
        expected = sum(state[name] for state in states) / 3
        torch.testing.assert_close(soup.model.state_dict()[name], expected, atol=2e-3, rtol=2e-3)
    assert soup.metadata["averaged_checkpoints"] == [str(s) for s in sources]


def test_average_of_different_architectures_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    first = saved_run(tmp_path / "a", seed=0)
    charset = Charset("abc")
    other = save_checkpoint(tmp_path / "b" / "last", CRNN(preset("small", charset.num_classes)), charset,
                            PreprocessConfig(), {"steps": 1}).with_suffix("")
    assert main([str(first), str(other), "--average", "--output", str(tmp_path / "soup")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error:") and "cannot average" in error and error.count("\n") == 1
    assert not (tmp_path / "soup.safetensors").exists()


def test_several_sources_without_average_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["a", "b", "--output", str(tmp_path / "x")])
    assert exit_info.value.code == 2
