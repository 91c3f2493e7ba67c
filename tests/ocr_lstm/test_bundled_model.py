"""The bundled model: small, fp16 on disk, found without a path, and it reads rendered words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from safetensors import safe_open

from ocr_lstm.checkpoint import BUNDLED_DIR, DEFAULT_MODEL, read_checkpoint_info, read_config
from ocr_lstm.metrics import reads_right
from ocr_lstm.recognition.recognizer import Recognizer

WEIGHTS = BUNDLED_DIR / f"{DEFAULT_MODEL}.safetensors"
pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no bundled weights in this checkout")

WORDS = ["market", "STREET", "Coffee", "open", "HOTEL", "parking", "2024", "Station", "exit", "BANK",
         "garden", "Museum"]
# Styles unlike a plain training render: light text on dark, coloured, blurred, thin and heavy fonts.
STYLES = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "black", "white", 0.0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf", "white", "#203040", 0.0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", "#a01010", "#f0e0c0", 0.6),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-ExtraLight.ttf", "#101010", "#d8d8d8", 0.0),
]


def render(text: str, style: tuple[str, str, str, float]) -> Image.Image:
    font_path, ink, paper, blur = style
    font = ImageFont.truetype(font_path, 40) if Path(font_path).is_file() else ImageFont.load_default(40)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 12, bottom - top + 10), paper)
    ImageDraw.Draw(image).text((6 - left, 5 - top), text, font=font, fill=ink)
    return image.filter(ImageFilter.GaussianBlur(blur)) if blur else image


def test_bundled_weights_are_small_fp16_with_their_config() -> None:
    assert WEIGHTS.stat().st_size < 10_000_000
    with safe_open(str(WEIGHTS), framework="pt") as f:
        dtypes = {str(f.get_tensor(k).dtype) for k in f.keys() if f.get_tensor(k).is_floating_point()}  # noqa: SIM118 - safe_open is not a dict
    assert dtypes == {"torch.float16"}
    config = read_config(DEFAULT_MODEL)
    assert config["charset"]["symbols"] and config["preprocess"]["height"] == 32
    assert config["metadata"]["samples_seen"] > 0


def test_bundled_model_reads_words_rendered_at_test_time() -> None:
    recognizer = Recognizer(threads=1)
    images = [render(word, STYLES[i % len(STYLES)]) for i, word in enumerate(WORDS)]
    results = recognizer.recognize(images)
    correct = [reads_right(r.text, w) for r, w in zip(results, WORDS)]
    readings = {w: r.text for w, r in zip(WORDS, results)}
    assert sum(correct) >= 10, readings
    assert all(0.0 <= r.confidence <= 1.0 for r in results)


def test_the_bundled_model_records_its_own_figures_as_the_model_card_gives_them() -> None:
    """``/v1/model`` and ``ocr-lstm eval`` show these: they must be the shipped weights' figures."""
    evaluation = read_checkpoint_info("default").recorded_figures["evaluation"]
    card = (Path(__file__).parents[2] / "MODEL_CARD.md").read_text(encoding="utf-8")
    for name, with_prior in evaluation["word_accuracy"].items():
        alone = evaluation["word_accuracy_without_word_prior"][name]
        label = "svt" if name == "svt" else f"ic13 ({name.removeprefix('ic13_')})"
        row = rf"^\| {re.escape(label)} \| {with_prior:.2f} \| .* \| {alone:.2f} \|"
        assert re.search(row, card, re.MULTILINE), name
