"""DetectorConfig refuses settings the detector cannot use, each with a clear message."""

from __future__ import annotations

import numpy as np
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


def test_a_max_side_under_min_side_is_taken_and_caps_the_scaling_up() -> None:
    from ocr_lstm.detection.db_onnx import resize_for_detection

    config = DetectorConfig(max_side=640)  # min_side stays 736: scaling up stops at max_side
    resized, _, _ = resize_for_detection(np.zeros((300, 400, 3), np.uint8), config.max_side, min_side=config.min_side)
    assert max(resized.shape[:2]) == 640
