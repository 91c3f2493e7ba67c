"""The explanation's picture: drawn with matplotlib (the viz extra) when first asked for."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from PIL import Image

from ocr_lstm.explain import explain_image
from ocr_lstm.recognizer import Recognizer
from ocr_lstm.viz.explain_picture import render_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def recognizer(tiny_model_path: Path) -> Recognizer:
    return Recognizer(tiny_model_path, device="cpu", threads=1)


def test_png_is_a_decodable_picture_sized_to_the_word(recognizer: Recognizer, word_png: Path) -> None:
    explanation = explain_image(recognizer, word_png)
    assert "png" in vars(explanation)  # drawn by explain_image, in the caller's thread
    png = explanation.png
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        width, height = image.size
    assert 400 <= width <= 2500
    assert 600 <= height <= 2000
    assert len(png) < 1_000_000


def test_render_false_defers_the_picture(recognizer: Recognizer, word_png: Path) -> None:
    deferred = explain_image(recognizer, word_png, render=False)
    assert "png" not in vars(deferred)
    assert deferred.to_dict()["text"] == deferred.text
    assert deferred.png.startswith(PNG_SIGNATURE)


def test_the_picture_is_the_renderers_drawing_of_the_explanation(recognizer: Recognizer, word_png: Path) -> None:
    explanation = explain_image(recognizer, word_png, render=False)
    with Image.open(io.BytesIO(render_png(explanation, dpi=50))) as small, Image.open(
        io.BytesIO(explanation.png)
    ) as full:
        assert small.size[0] == pytest.approx(full.size[0] / 2, abs=2)


def test_without_matplotlib_the_picture_asks_for_the_viz_extra(
    recognizer: Recognizer, word_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explanation = explain_image(recognizer, word_png, render=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'ocr-lstm\[viz\]'"):
        explanation.png  # noqa: B018
