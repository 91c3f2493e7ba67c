"""Fixtures shared by every test: a small random checkpoint and rendered word images.

Nothing here needs ../shared or the bundled weights, so the suite runs on a
user's fresh checkout.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# The session's own cache folder (ONNX exports, the word prior's vocabulary), inherited by the
# commands and servers the tests start: a run neither reads nor fills the user's cache.
os.environ["OCR_LSTM_CACHE_DIR"] = tempfile.mkdtemp(prefix="ocr-lstm-test-cache-")

import pytest
import torch
from word_images import render_word

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import save_checkpoint
from ocr_lstm.model.config import preset
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig

atexit.register(shutil.rmtree, os.environ["OCR_LSTM_CACHE_DIR"], True)
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 'tiny' checkpoint with the default charset: random, deterministic weights,
    scaled so that what it reads depends on the image.

    At torch's default initialisation every image read the same ("Vv", confidence
    1.3e-4 give or take 4e-7), so tests comparing readings (order, batch against
    single, ONNX against torch, the service against the library) could not fail.
    The default conv init has 1/6 of He's variance, so six conv + ReLU layers (with
    BatchNorm's fresh running statistics an identity) shrink the image ~200-fold and
    the head's bias decides every frame. Conv weights x sqrt(6) restore He's gain;
    LSTM weights x 3 and head weights x 20 make the decisions sharp. Rendered words
    and noise crops then read as distinct strings of junk ("hello" as ",r-") with
    confidences from ~3e-5 to ~0.8, while batched, single and ONNX readings still
    agree to ~5e-7 in confidence and ~5e-5 in frame log-probabilities.
    """
    torch.manual_seed(0)
    charset = Charset()
    model = CRNN(preset("tiny", charset.num_classes)).eval()
    with torch.no_grad():
        for module in model.features.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.mul_(6**0.5)
        for name, parameter in model.lstm.named_parameters():
            if name.startswith("weight"):
                parameter.mul_(3.0)
        model.head.weight.mul_(20.0)
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
