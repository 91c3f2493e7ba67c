"""Checkpoints: safetensors plus JSON, loaded without unpickling, the charset included."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import load_checkpoint, read_config, resolve, save_checkpoint
from ocr_lstm.model.config import preset
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig


def random_model(charset: Charset, seed: int = 0) -> CRNN:
    torch.manual_seed(seed)
    model = CRNN(preset("tiny", charset.num_classes))
    with torch.no_grad():  # non-default BatchNorm statistics must survive the trip too
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


@pytest.fixture()
def images() -> torch.Tensor:
    return torch.randn(2, 1, 32, 48, generator=torch.Generator().manual_seed(0))


def test_save_load_round_trip_gives_identical_outputs(tmp_path: Path, images: torch.Tensor) -> None:
    charset = Charset()
    model = random_model(charset)
    path = save_checkpoint(tmp_path / "model", model, charset, PreprocessConfig())
    assert path == tmp_path / "model.safetensors"
    assert (tmp_path / "model.json").is_file()
    loaded = load_checkpoint(path)
    assert not loaded.model.training
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(images), model(images), atol=0, rtol=0)


def test_half_precision_weights_load_as_fp32_with_close_outputs(tmp_path: Path, images: torch.Tensor) -> None:
    charset = Charset()
    model = random_model(charset)
    path = save_checkpoint(tmp_path / "half", model, charset, PreprocessConfig(), half=True)
    with safe_open(str(path), "pt") as f:
        assert f.get_tensor("head.weight").dtype == torch.float16
        assert f.get_tensor("features.layers.1.num_batches_tracked").dtype == torch.int64
    full_size = save_checkpoint(tmp_path / "full", model, charset, PreprocessConfig()).stat().st_size
    assert path.stat().st_size < 0.6 * full_size
    loaded = load_checkpoint(path)
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(images), model(images), atol=5e-3, rtol=0)


def test_loading_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, images: torch.Tensor) -> None:
    charset = Charset()
    model = random_model(charset)
    path = save_checkpoint(tmp_path / "model", model, charset, PreprocessConfig())

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("checkpoint loading must not unpickle")

    for target, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")]:
        monkeypatch.setattr(target, name, refuse)
    loaded = load_checkpoint(path)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(images), model(images), atol=0, rtol=0)


def test_weights_file_is_safetensors_not_a_pickle(tmp_path: Path) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig())
    header_length = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_length])
    assert "head.weight" in header
    assert not path.read_bytes().startswith(b"\x80")  # pickle protocol marker
    assert not (tmp_path / "model.pt").exists()


def test_charset_preprocessing_and_metadata_travel_with_the_weights(tmp_path: Path) -> None:
    charset = Charset("0123456789abc-", unknown="error")
    preprocess = PreprocessConfig(max_width=256, vertical_ratio=2.0)
    path = save_checkpoint(tmp_path / "digits", random_model(charset), charset, preprocess, {"steps": 7, "note": "é"})
    loaded = load_checkpoint(path)
    assert loaded.charset == charset
    assert loaded.model.config.num_classes == charset.num_classes == 15
    assert loaded.preprocess == preprocess
    assert loaded.metadata == {"steps": 7, "note": "é"}
    assert loaded.name == "digits"
    config = read_config(path)
    assert config["charset"]["symbols"] == charset.symbols
    assert config["architecture"] == "crnn"
    assert config["model"]["input_height"] == 32


def test_resolve_accepts_paths_with_or_without_suffix(tmp_path: Path) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig())
    assert resolve(path) == path
    assert resolve(tmp_path / "model") == path
    assert resolve(str(tmp_path / "model.json")) == path
    folder = tmp_path / "run"
    inner = save_checkpoint(folder / "model", random_model(charset), charset, PreprocessConfig())
    assert resolve(folder) == inner


def test_resolve_reports_a_missing_model_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*nothing-here"):
        resolve(tmp_path / "nothing-here")
    with pytest.raises(FileNotFoundError, match="bundled models"):
        resolve("no-such-bundled-model")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nothing-here")


def test_other_architectures_are_refused(tmp_path: Path) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig())
    config_path = path.with_suffix(".json")
    config = json.loads(config_path.read_text())
    config["architecture"] = "transformer"
    config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="transformer"):
        load_checkpoint(path)


def test_unknown_keys_from_a_newer_version_are_ignored(tmp_path: Path) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig(max_width=300))
    config_path = path.with_suffix(".json")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["preprocess"]["deskew"] = True
    config["model"]["attention"] = "none"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    loaded = load_checkpoint(path)
    assert loaded.preprocess == PreprocessConfig(max_width=300)
