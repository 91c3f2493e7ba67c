"""Fixtures shared by every test: a small random checkpoint and rendered word images.

Nothing here needs ../shared or the bundled weights, so the suite runs on a
user's fresh checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from ocr_lstm.charset import Charset  # noqa: E402
from ocr_lstm.checkpoint import save_checkpoint  # noqa: E402
from ocr_lstm.model.config import preset  # noqa: E402
from ocr_lstm.model.crnn import CRNN  # noqa: E402
from ocr_lstm.preprocessing import PreprocessConfig  # noqa: E402

torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def render_word(text: str, height: int = 48, font_path: Path | None = None) -> Image.Image:
    """Black text on white, the simplest legible word image."""
    font_path = font_path or DEJAVU
    font = ImageFont.truetype(str(font_path), int(height * 0.7)) if font_path.is_file() else ImageFont.load_default()
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 16, bottom - top + 16), "white")
    ImageDraw.Draw(image).text((8 - left, 8 - top), text, font=font, fill="black")
    return image


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 'tiny' checkpoint with the default charset (random but deterministic weights)."""
    torch.manual_seed(0)
    charset = Charset()
    model = CRNN(preset("tiny", charset.num_classes)).eval()
    path = tmp_path_factory.mktemp("model") / "tiny"
    return save_checkpoint(path, model, charset, PreprocessConfig(), {"note": "random test weights"})


@pytest.fixture()
def word_png(tmp_path: Path) -> Path:
    path = tmp_path / "word.png"
    render_word("hello").save(path)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data when present; tests that need it skip otherwise."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def random_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
