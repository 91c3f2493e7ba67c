"""Architecture hyper-parameters: presets, validation and the dict form stored in checkpoints."""

from __future__ import annotations

import json

import pytest

from ocr_lstm.model.config import PRESETS, CRNNConfig, preset


def test_config_dict_round_trip_through_json() -> None:
    config = preset("small", 97, lstm_hidden=64, dropout=0.2)
    restored = CRNNConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config
    assert isinstance(restored.cnn_channels, tuple)


def test_from_dict_ignores_unknown_keys() -> None:
    data = {**CRNNConfig(num_classes=5).to_dict(), "from_the_future": 1}
    assert CRNNConfig.from_dict(data) == CRNNConfig(num_classes=5)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_apply_their_sizes(name: str) -> None:
    config = preset(name, 10)
    assert config.num_classes == 10
    assert config.cnn_channels == PRESETS[name]["cnn_channels"]
    assert config.lstm_hidden == PRESETS[name]["lstm_hidden"]


def test_preset_overrides_win() -> None:
    assert preset("tiny", 10, lstm_hidden=32).lstm_hidden == 32


def test_unknown_preset_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="tiny"):
        preset("huge", 10)


def test_invalid_architectures_are_refused() -> None:
    with pytest.raises(ValueError, match="six"):
        CRNNConfig(num_classes=5, cnn_channels=(8, 8))
    with pytest.raises(ValueError, match="32"):
        CRNNConfig(num_classes=5, input_height=48)
