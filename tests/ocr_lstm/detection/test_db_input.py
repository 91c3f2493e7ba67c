"""Photos become the detector's input: stride-32 sides within max_side, BGR NCHW float32."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_lstm.detection.db_onnx import STRIDE, normalise, resize_for_detection


def photo(width: int, height: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("width", "height", "max_side"),
    [(1280, 880, 960), (880, 1280, 960), (4000, 300, 960), (1000, 1000, 1000), (33, 2000, 640), (5, 3, 960)],
)
def test_resized_sides_are_multiples_of_32_within_max_side(width: int, height: int, max_side: int) -> None:
    resized, scale_x, scale_y = resize_for_detection(photo(width, height), max_side)
    new_height, new_width = resized.shape[:2]
    assert new_width % STRIDE == 0 and new_height % STRIDE == 0
    assert max(new_width, new_height) <= max_side
    assert min(new_width, new_height) >= STRIDE
    assert scale_x == new_width / width and scale_y == new_height / height


def test_a_large_photo_is_scaled_down_keeping_its_aspect_ratio() -> None:
    resized, scale_x, scale_y = resize_for_detection(photo(1280, 880), 960)
    assert resized.shape == (672, 960, 3)
    assert scale_x == 0.75 and scale_y == pytest.approx(0.75, abs=16 / 880)


def test_a_photo_within_max_side_is_not_scaled_up_without_min_side() -> None:
    resized, scale_x, _ = resize_for_detection(photo(640, 480), 960)
    assert resized.shape == (480, 640, 3) and scale_x == 1.0


def test_min_side_scales_a_small_photo_up_but_never_past_max_side() -> None:
    resized, _, _ = resize_for_detection(photo(400, 300), 960, min_side=736)
    assert resized.shape == (704, 960, 3)  # x 2.4 to fit 960: 720 rounds (to even) to 22 x 32
    resized, _, _ = resize_for_detection(photo(400, 380), 1280, min_side=736)
    assert resized.shape == (736, 768, 3)


def test_an_empty_image_or_a_max_side_below_the_stride_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        resize_for_detection(np.zeros((0, 10, 3), np.uint8), 960)
    with pytest.raises(ValueError, match="stride"):
        resize_for_detection(photo(10, 10), 16)


def test_normalise_gives_bgr_nchw_float32_in_minus_one_to_one() -> None:
    rgb = np.zeros((32, 64, 3), np.uint8)
    rgb[..., 0] = 255  # red
    tensor = normalise(rgb)
    assert tensor.shape == (1, 3, 32, 64) and tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[0, 2], 1.0)
    np.testing.assert_allclose(tensor[0, :2], -1.0)
    assert tensor.flags.c_contiguous
