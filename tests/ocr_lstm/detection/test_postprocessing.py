"""DB post-processing on hand-made probability maps: boxes, scores, filters, corner order."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr_lstm.detection import DetectedLine, DetectorConfig
from ocr_lstm.detection.postprocessing import lines_from_probability_map, order_clockwise, unclip

CONFIG = DetectorConfig()


def prob_map_with(*rects: tuple[int, int, int, int, float], size: tuple[int, int] = (200, 100)) -> np.ndarray:
    """A ``size`` (width, height) map of zeros with each ``(left, top, right, bottom, p)``
    rectangle (right and bottom exclusive) set to probability ``p``."""
    prob_map = np.zeros((size[1], size[0]), np.float32)
    for left, top, right, bottom, p in rects:
        prob_map[top:bottom, left:right] = p
    return prob_map


def grown(left: int, top: int, right: int, bottom: int, ratio: float = CONFIG.unclip_ratio) -> np.ndarray:
    """The box DB gives for a filled rectangle: its pixel centres' outline grown by area * ratio / perimeter."""
    x0, y0, x1, y1 = left, top, right - 1, bottom - 1
    distance = (x1 - x0) * (y1 - y0) * ratio / (2 * ((x1 - x0) + (y1 - y0)))
    return np.array(
        [(x0 - distance, y0 - distance), (x1 + distance, y0 - distance),
         (x1 + distance, y1 + distance), (x0 - distance, y1 + distance)]
    )


def signed_area(polygon: tuple[tuple[float, float], ...]) -> float:
    """Positive for points clockwise on screen (y pointing down)."""
    points = np.array(polygon)
    x, y = points[:, 0], points[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def by_left(lines: list[DetectedLine]) -> list[DetectedLine]:
    return sorted(lines, key=lambda line: line.polygon[0][0])


def test_two_rectangles_give_two_lines_grown_by_unclip() -> None:
    prob_map = prob_map_with((20, 30, 80, 50, 0.9), (120, 40, 180, 60, 0.8))
    lines = by_left(lines_from_probability_map(prob_map, CONFIG, (200, 100)))
    assert len(lines) == 2
    np.testing.assert_allclose(np.array(lines[0].polygon), grown(20, 30, 80, 50), atol=1.5)
    np.testing.assert_allclose(np.array(lines[1].polygon), grown(120, 40, 180, 60), atol=1.5)
    assert lines[0].score == pytest.approx(0.9, abs=0.02)
    assert lines[1].score == pytest.approx(0.8, abs=0.02)


def test_boxes_scale_back_to_the_original_photo() -> None:
    prob_map = prob_map_with((20, 30, 80, 50, 0.9))
    (line,) = lines_from_probability_map(prob_map, CONFIG, (400, 300))
    expected = grown(20, 30, 80, 50) * np.array([2.0, 3.0])
    np.testing.assert_allclose(np.array(line.polygon), expected, atol=4.5)


def test_boxes_are_clipped_to_the_photo() -> None:
    prob_map = prob_map_with((0, 0, 60, 20, 0.9))
    (line,) = lines_from_probability_map(prob_map, CONFIG, (200, 100))
    points = np.array(line.polygon)
    assert points.min() == 0
    np.testing.assert_allclose(points[2], grown(0, 0, 60, 20)[2], atol=1.5)


def test_a_region_below_box_threshold_is_dropped() -> None:
    prob_map = prob_map_with((20, 30, 80, 50, 0.4), (120, 40, 180, 60, 0.9))
    (line,) = lines_from_probability_map(prob_map, CONFIG, (200, 100))
    assert line.polygon[0][0] == pytest.approx(grown(120, 40, 180, 60)[0][0], abs=1.5)
    assert len(lines_from_probability_map(prob_map, DetectorConfig(box_threshold=0.35), (200, 100))) == 2


def test_a_tiny_blob_is_dropped() -> None:
    prob_map = prob_map_with((50, 50, 53, 53, 1.0), (120, 40, 180, 60, 0.9))
    (line,) = lines_from_probability_map(prob_map, CONFIG, (200, 100))
    assert line.polygon[0][0] == pytest.approx(grown(120, 40, 180, 60)[0][0], abs=1.5)


def test_points_are_clockwise_from_the_top_left() -> None:
    (line,) = lines_from_probability_map(prob_map_with((20, 30, 80, 50, 0.9)), CONFIG, (200, 100))
    (left, top), (right, _), (_, bottom), _ = line.polygon
    assert signed_area(line.polygon) > 0
    assert left < right and top < bottom
    assert line.polygon[0] == min(line.polygon, key=lambda p: p[0] + p[1])


def test_a_rotated_rectangle_gives_a_rotated_quadrilateral() -> None:
    prob_map = np.zeros((200, 300), np.float32)
    corners = cv2.boxPoints(((150, 100), (160, 30), 20)).astype(np.int32)
    cv2.fillPoly(prob_map, [corners], 0.9)
    (line,) = lines_from_probability_map(prob_map, CONFIG, (300, 200))
    points = np.array(line.polygon)
    top_edge = points[1] - points[0]
    assert np.degrees(np.arctan2(top_edge[1], top_edge[0])) == pytest.approx(20, abs=2)
    assert signed_area(line.polygon) > 0
    assert np.linalg.norm(top_edge) > np.linalg.norm(points[3] - points[0])


def test_an_empty_map_gives_no_lines() -> None:
    assert lines_from_probability_map(np.zeros((64, 96), np.float32), CONFIG, (96, 64)) == []


def test_a_map_that_is_not_two_dimensional_is_refused() -> None:
    with pytest.raises(ValueError, match="H x W"):
        lines_from_probability_map(np.zeros((1, 64, 96), np.float32), CONFIG, (96, 64))


# ---- order_clockwise ---------------------------------------------------------------------


@pytest.mark.parametrize("shift", range(4))
@pytest.mark.parametrize("reverse", [False, True])
def test_order_clockwise_starts_at_the_top_left_whatever_the_input_order(shift: int, reverse: bool) -> None:
    box = np.array([(10, 5), (50, 5), (50, 20), (10, 20)], np.float32)
    shuffled = np.roll(box[::-1] if reverse else box, shift, axis=0)
    np.testing.assert_array_equal(order_clockwise(shuffled), box)


def test_order_clockwise_starts_a_standing_box_at_the_top_left_of_its_short_top_edge() -> None:
    box = np.array([(10, 5), (25, 5), (25, 90), (10, 90)], np.float32)
    np.testing.assert_array_equal(order_clockwise(np.roll(box, 1, axis=0)), box)


def test_order_clockwise_follows_a_tilted_top_edge() -> None:
    for angle in (-40, -10, 10, 40):
        box = cv2.boxPoints(((100, 100), (80, 20), angle))
        ordered = order_clockwise(box)
        top_edge = ordered[1] - ordered[0]
        assert np.degrees(np.arctan2(top_edge[1], top_edge[0])) == pytest.approx(angle, abs=0.01)


def test_unclip_grows_a_box_by_area_times_ratio_over_perimeter() -> None:
    box = np.array([(0, 0), (40, 0), (40, 10), (0, 10)], np.float32)
    points = unclip(box, 2.0)
    assert points is not None
    assert points[:, 0].min() == pytest.approx(-8, abs=1) and points[:, 1].max() == pytest.approx(18, abs=1)
