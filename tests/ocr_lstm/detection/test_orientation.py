"""The 0/180 line classifier with the real model from the rapidocr wheel: rendered lines the
right way up and turned, and the input it is given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_lstm.detection.models import rapidocr_models_dir
from ocr_lstm.detection.orientation import CLASSIFIER_MODEL, INPUT_HEIGHT, INPUT_WIDTH, classifier_input
from ocr_lstm.synth.fonts import find_fonts

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LINES = ("Fresh coffee and cakes", "OPEN DAILY 9 TO 5", "Market Street 1492", "Parking at the rear")


def classifier_present() -> bool:
    models_dir = rapidocr_models_dir()
    return models_dir is not None and (models_dir / f"{CLASSIFIER_MODEL}.onnx").is_file()


def rendered(text: str) -> np.ndarray:
    path = str(DEJAVU) if DEJAVU.is_file() else (find_fonts() or [("", "")])[0][0]
    if not path:
        pytest.skip("no font to render text with")
    font = ImageFont.truetype(path, 36)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (right - left + 16, bottom - top + 12), 235)
    ImageDraw.Draw(image).text((8 - left, 6 - top), text, font=font, fill=25)
    return np.asarray(image)


def test_the_input_is_three_channels_of_48_by_192_in_minus_one_to_one_padded_right() -> None:
    crop = np.full((20, 40), 255, np.uint8)  # 96 px wide at height 48: the rest is padding
    tensor = classifier_input(crop)
    assert tensor.shape == (3, INPUT_HEIGHT, INPUT_WIDTH) and tensor.dtype == np.float32
    assert np.allclose(tensor[:, :, :96], 1.0) and np.allclose(tensor[:, :, 96:], 0.0)
    assert classifier_input(np.zeros((10, 1000), np.uint8)).shape == (3, INPUT_HEIGHT, INPUT_WIDTH)


@pytest.mark.skipif(not classifier_present(), reason="rapidocr==3.10.0 (the classifier's model) is not installed")
def test_rendered_lines_are_found_upright_and_turned_ones_upside_down() -> None:
    from ocr_lstm.detection.orientation import LineFlipClassifier

    classifier = LineFlipClassifier(threads=1)
    lines = [rendered(text) for text in LINES]
    upright = classifier(lines)
    turned = classifier([line[::-1, ::-1] for line in lines])
    assert all(p < 0.5 for p in upright), upright
    assert all(p > 0.9 for p in turned), turned
    assert classifier([]) == []
