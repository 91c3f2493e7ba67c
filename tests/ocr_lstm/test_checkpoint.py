"""Checkpoints: safetensors plus JSON, loaded without unpickling, the charset included."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import (
    ARCHITECTURES,
    BUNDLED_DIR,
    DEFAULT_MODEL,
    FORMAT_SINCE,
    FORMAT_VERSION,
    Checkpoint,
    architecture_name,
    load_checkpoint,
    read_checkpoint_info,
    read_config,
    resolve,
    save_checkpoint,
    transfer_weights,
    with_charset,
)
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


def test_a_training_runs_folder_resolves_to_its_best_checkpoint(tmp_path: Path) -> None:
    charset = Charset()
    for name in ("last", "best"):
        save_checkpoint(tmp_path / "runs" / "mine" / name, random_model(charset), charset, PreprocessConfig())
    assert resolve(tmp_path / "runs" / "mine") == tmp_path / "runs" / "mine" / "best.safetensors"


def test_checkpoint_info_reads_what_a_checkpoint_holds_without_building_it(tmp_path: Path) -> None:
    charset = Charset("0123456789", unknown="error")
    model = random_model(charset)
    preprocess = PreprocessConfig(max_width=256)
    path = save_checkpoint(tmp_path / "digits", model, charset, preprocess, {"steps": 3}, half=True)
    info = read_checkpoint_info(path)
    assert (info.name, info.weights_path, info.architecture) == ("digits", path, "crnn")
    assert info.charset == charset and info.preprocess.max_width == 256 and info.metadata == {"steps": 3}
    assert info.model_config == model.config
    # The trained weights, not BatchNorm's running statistics stored beside them.
    stored = sum(t.numel() for t in model.state_dict().values())
    assert info.parameters == sum(p.numel() for p in model.parameters()) < stored
    in_memory = load_checkpoint(path).info()
    assert in_memory.weights_path is None
    assert (in_memory.parameters, in_memory.charset, in_memory.model_config) == (info.parameters, charset, model.config)


def test_reading_a_checkpoints_info_never_imports_torch(tmp_path: Path) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig())
    code = (
        "import sys; sys.modules['torch'] = None\n"  # any import of torch now fails
        "from ocr_lstm.checkpoint import read_checkpoint_info\n"
        f"print(read_checkpoint_info({str(path)!r}).name)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "model\n"


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


def rewrite_config(path: Path, **changes: object) -> None:
    config_path = path.with_suffix(".json")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.update(changes)
    config_path.write_text(json.dumps(config), encoding="utf-8")


def test_the_format_version_and_the_release_that_reads_it_are_written(tmp_path: Path) -> None:
    charset = Charset()
    config = read_config(save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig()))
    assert config["format_version"] == FORMAT_VERSION
    assert config["requires_ocr_lstm"] == FORMAT_SINCE


def test_a_newer_format_is_refused_naming_the_release_it_needs(tmp_path: Path) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig())
    rewrite_config(path, format_version=FORMAT_VERSION + 1, requires_ocr_lstm="0.9.0")
    with pytest.raises(ValueError, match=r"model\.json is checkpoint format 2, .* needs ocr-lstm >= 0\.9\.0$"):
        load_checkpoint(path)
    rewrite_config(path, requires_ocr_lstm=None)
    with pytest.raises(ValueError, match=r"needs a newer ocr-lstm$"):
        load_checkpoint(path)


@pytest.mark.parametrize("version", ["1", 0, 1.5, True])
def test_a_format_version_that_is_not_a_whole_number_from_1_is_refused(tmp_path: Path, version: object) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig())
    rewrite_config(path, format_version=version)
    with pytest.raises(ValueError, match="format_version"):
        load_checkpoint(path)


def test_a_config_without_a_format_version_is_read_as_format_1(tmp_path: Path) -> None:
    charset = Charset()
    path = save_checkpoint(tmp_path / "model", random_model(charset), charset, PreprocessConfig())
    config_path = path.with_suffix(".json")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    del config["format_version"], config["requires_ocr_lstm"]
    config_path.write_text(json.dumps(config), encoding="utf-8")
    assert load_checkpoint(path).charset == charset


def test_the_bundled_model_is_in_a_format_this_release_reads() -> None:
    assert read_config(BUNDLED_DIR / f"{DEFAULT_MODEL}.json")["format_version"] <= FORMAT_VERSION
    assert load_checkpoint(DEFAULT_MODEL).name == DEFAULT_MODEL


def test_the_architecture_registry_names_what_a_checkpoint_holds() -> None:
    assert architecture_name(random_model(Charset())) == "crnn"
    assert ARCHITECTURES["crnn"].module is CRNN
    with pytest.raises(ValueError, match="Linear"):
        architecture_name(torch.nn.Linear(2, 2))


def test_a_weight_transfer_onto_a_larger_charset_keeps_every_weight_and_shared_head_rows() -> None:
    old_charset = Charset("abc")
    new_charset = Charset("xcab")  # a reordered superset: rows must follow the symbols
    torch.manual_seed(0)
    source = CRNN(preset("tiny", old_charset.num_classes))
    torch.manual_seed(1)
    target = CRNN(preset("tiny", new_charset.num_classes))
    fresh_x = target.head.weight[1].clone()

    assert transfer_weights(source, old_charset, target, new_charset) == 3

    source_state, target_state = source.state_dict(), target.state_dict()
    for name, value in source_state.items():
        if not name.startswith("head."):
            torch.testing.assert_close(target_state[name], value, atol=0, rtol=0)
    for char in "abc":
        new_row, old_row = new_charset.encode(char)[0], old_charset.encode(char)[0]
        torch.testing.assert_close(target.head.weight[new_row], source.head.weight[old_row], atol=0, rtol=0)
        assert target.head.bias[new_row] == source.head.bias[old_row]
    torch.testing.assert_close(target.head.weight[0], source.head.weight[0], atol=0, rtol=0)  # the blank
    torch.testing.assert_close(target.head.weight[1], fresh_x, atol=0, rtol=0)  # "x" is new


def test_a_weight_transfer_onto_the_same_charset_reproduces_the_model() -> None:
    charset = Charset("ab")
    source, target = CRNN(preset("tiny", 3)).eval(), CRNN(preset("tiny", 3)).eval()
    transfer_weights(source, charset, target, charset)
    images = torch.randn(1, 1, 32, 24)
    with torch.no_grad():
        torch.testing.assert_close(target(images), source(images))


def test_with_charset_starts_a_fine_tune_on_a_larger_charset_keeping_the_preprocessing() -> None:
    old, new = Charset("abc"), Charset("abcxy")
    preprocess = PreprocessConfig(max_width=300)
    source = Checkpoint(random_model(old), old, preprocess, {"steps": 3}, "parent")
    start = with_charset(source, new)
    assert start.charset == new and start.preprocess == preprocess and start.name == "parent"
    assert start.model.head.out_features == new.num_classes
    torch.testing.assert_close(start.model.head.weight[1:4], source.model.head.weight[1:4], atol=0, rtol=0)


def test_a_checkpoint_named_with_a_dot_keeps_its_whole_name(tmp_path: Path) -> None:
    """``model_v1.5`` is not ``model_v1`` with a suffix: two such names never overwrite each other."""
    charset = Charset("ab")
    for name in ("model_v1.5", "model_v1.25"):
        save_checkpoint(tmp_path / name, CRNN(preset("tiny", charset.num_classes)), charset, PreprocessConfig(),
                        {"name": name})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model_v1.25.json", "model_v1.25.safetensors", "model_v1.5.json", "model_v1.5.safetensors"]
    assert load_checkpoint(tmp_path / "model_v1.5").metadata == {"name": "model_v1.5"}
    assert resolve(tmp_path / "model_v1.25.json") == tmp_path / "model_v1.25.safetensors"
