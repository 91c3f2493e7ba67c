"""Cutting quadrilaterals out of photos and mapping crop columns back."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_lstm.geometry import as_quad, cut_quad, quad_size, turn


def test_an_axis_aligned_box_is_cut_exactly() -> None:
    image = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200).astype(np.float32)
    cut = cut_quad(image, as_quad([(20, 10), (120, 10), (120, 40), (20, 40)]))
    assert cut.crop.shape == (30, 100)
    np.testing.assert_allclose(cut.crop[5, 7], image[15, 27], rtol=1e-4)


def test_columns_map_back_to_the_photo() -> None:
    cut = cut_quad(np.zeros((100, 200), np.uint8), as_quad([(20, 10), (120, 10), (120, 40), (20, 40)]))
    polygon = cut.polygon_of_columns(10, 30)
    np.testing.assert_allclose(polygon, [(30, 10), (50, 10), (50, 40), (30, 40)], atol=1e-3)


def test_a_rotated_quad_maps_its_columns_along_its_own_direction() -> None:
    angle = np.deg2rad(30)
    along, across = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    origin = np.array([50.0, 20.0])
    quad = np.array([origin, origin + 100 * along, origin + 100 * along + 20 * across, origin + 20 * across])
    cut = cut_quad(np.zeros((200, 200), np.uint8), as_quad(quad))
    assert quad_size(as_quad(quad)) == (100, 20)
    start = np.array(cut.polygon_of_columns(50, 60)[0])
    np.testing.assert_allclose(start, origin + 50 * along, atol=1e-3)


def test_turning_a_quad_starts_it_at_another_corner() -> None:
    quad = [(0, 0), (10, 0), (10, 5), (0, 5)]
    assert turn(quad, 2)[0].tolist() == [10, 5]
    assert turn(quad, 1)[0].tolist() == [10, 0]


def test_a_polygon_that_is_not_four_points_is_refused() -> None:
    with pytest.raises(ValueError, match="4"):
        as_quad([(0, 0), (1, 0), (1, 1)])
