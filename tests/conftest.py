"""Fixtures shared by every test: a small random checkpoint and rendered word images.

Nothing here needs ../shared or the bundled weights, so the suite runs on a
user's fresh checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest
import torch
from word_images import render_word

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import save_checkpoint
from ocr_lstm.model.config import preset
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig

torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


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
