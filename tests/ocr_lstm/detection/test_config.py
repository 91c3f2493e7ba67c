"""DetectorConfig refuses settings the detector cannot use, each with a clear message."""

from __future__ import annotations

import pytest

from ocr_lstm.detection import DetectorConfig


def test_the_defaults_are_valid_and_frozen() -> None:
    config = DetectorConfig()
    with pytest.raises(AttributeError):
        config.max_side = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": ""}, "model"),
        ({"max_side": 16}, "max_side"),
        ({"min_side": -1}, "min_side"),
        ({"max_side": 640, "min_side": 736}, "min_side"),
        ({"binary_threshold": 0.0}, "binary_threshold"),
        ({"binary_threshold": 1.0}, "binary_threshold"),
        ({"box_threshold": 1.5}, "box_threshold"),
        ({"unclip_ratio": 0.0}, "unclip_ratio"),
        ({"min_box_size": -1}, "min_box_size"),
        ({"max_candidates": 0}, "max_candidates"),
    ],
)
def test_settings_out_of_range_raise_value_errors_naming_them(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DetectorConfig(**settings)  # type: ignore[arg-type]
