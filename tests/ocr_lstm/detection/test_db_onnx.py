"""The DB detector end to end with the real PP-OCRv6 model: lines found in a rendered
photo, nothing on a blank one; and how the model file is found."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from shapely.geometry import Polygon, box

from ocr_lstm.detection import DBDetector, DetectedLine, DetectorConfig
from ocr_lstm.detection.models import locate_model, rapidocr_models_dir
from ocr_lstm.errors import UnavailableError
from ocr_lstm.synth.fonts import find_fonts

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
# (text, left, top, font size) of each line in the rendered photo.
LINES = (("OPEN DAILY 9 TO 5", 60, 60, 56), ("Fresh coffee and cakes", 120, 220, 44), ("Market St 1492", 330, 380, 40))


def model_present() -> bool:
    models_dir = rapidocr_models_dir()
    return models_dir is not None and (models_dir / f"{DetectorConfig().model}.onnx").is_file()


needs_model = pytest.mark.skipif(not model_present(), reason="rapidocr==3.10.0 (the detector's model) is not installed")


def font_path() -> str:
    if DEJAVU.is_file():
        return str(DEJAVU)
    fonts = find_fonts()
    if not fonts:
        pytest.skip("no font to render text with")
    return fonts[0][0]


def background(width: int = 800, height: int = 500) -> Image.Image:
    """A photo-like backdrop: a diagonal colour gradient with sensor noise."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xs / width + ys / height) / 2
    rgb = np.stack([170 + 70 * ramp, 200 - 40 * ramp, 150 + 60 * (1 - ramp)], axis=-1)
    rgb += rng.normal(0, 8, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def detector() -> DBDetector:
    if not model_present():
        pytest.skip("rapidocr==3.10.0 (the detector's model) is not installed")
    return DBDetector(threads=1)


@pytest.fixture(scope="module")
def rendered() -> tuple[np.ndarray, list[Polygon]]:
    """The backdrop with LINES drawn on it, and each line's ink box."""
    image = background()
    draw = ImageDraw.Draw(image)
    path = font_path()
    boxes = []
    for text, left, top, size in LINES:
        font = ImageFont.truetype(path, size)
        draw.text((left, top), text, font=font, fill=(25, 20, 40))
        boxes.append(box(*draw.textbbox((left, top), text, font=font)))
    return np.asarray(image), boxes


@pytest.fixture(scope="module")
def detected(detector: DBDetector, rendered: tuple[np.ndarray, list[Polygon]]) -> list[DetectedLine]:
    return detector(rendered[0])


@needs_model
def test_the_detector_finds_each_rendered_line(
    detected: list[DetectedLine], rendered: tuple[np.ndarray, list[Polygon]]
) -> None:
    _, truths = rendered
    found = [Polygon(line.polygon) for line in detected]
    assert len(found) == len(truths)
    for truth in truths:
        best = max(truth.intersection(p).area / truth.union(p).area for p in found)
        assert best > 0.5


@needs_model
def test_detected_lines_are_clockwise_inside_the_photo_with_scores(detected: list[DetectedLine]) -> None:
    for line in detected:
        # Shapely's y points up, so clockwise on screen is counter-clockwise to it.
        assert len(line.polygon) == 4 and Polygon(line.polygon).exterior.is_ccw
        assert all(0 <= x <= 800 and 0 <= y <= 500 for x, y in line.polygon)
        assert 0.5 <= line.score <= 1


@needs_model
def test_a_blank_photo_has_no_lines(detector: DBDetector) -> None:
    assert detector(np.asarray(background())) == []


@needs_model
def test_the_probability_map_has_the_resized_size(detector: DBDetector) -> None:
    prob_map, scale = detector.probability_map(np.asarray(background()))
    # Scaled up until the shorter side reaches min_side (736), in multiples of 32.
    assert prob_map.dtype == np.float32 and prob_map.shape == (736, 1184)
    assert (scale.scale_x, scale.original_size) == (1.48, (800, 500))


@needs_model
def test_the_detector_refuses_what_is_not_an_rgb_uint8_image(detector: DBDetector) -> None:
    with pytest.raises(ValueError, match="uint8"):
        detector(np.zeros((50, 50, 3), np.float32))
    with pytest.raises(ValueError, match="H x W x 3"):
        detector(np.zeros((50, 50), np.uint8))


@needs_model
def test_describe_names_the_model_file_and_the_settings(detector: DBDetector) -> None:
    described = detector.describe()
    assert described["model"] == "PP-OCRv6_det_small.onnx"
    assert described["config"]["max_side"] == DetectorConfig().max_side


@needs_model
def test_the_detector_loads_without_importing_rapidocr_or_torch() -> None:
    script = (
        "import sys; from ocr_lstm.detection import DBDetector; DBDetector(threads=1); "
        "print(sorted({'rapidocr', 'torch'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_missing_model_name_says_to_install_rapidocr(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnavailableError, match=r"pip install rapidocr==3\.10\.0"):
        locate_model("no_such_detector")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UnavailableError, match=r"pip install rapidocr==3\.10\.0"):
        DBDetector()


@needs_model
def test_a_model_can_be_given_as_a_path() -> None:
    path = locate_model(DetectorConfig().model)
    assert locate_model(str(path)) == path


def test_a_missing_model_path_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        locate_model(str(tmp_path / "missing.onnx"))
