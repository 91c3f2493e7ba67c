"""Reading on the CPU with ONNX Runtime never imports torch (issue 19): word crops, a labelled
set's evaluation, whole photos and a batch folder, once the checkpoint's export is cached.

Each case runs in a fresh interpreter where ``import torch`` fails, so a stray import anywhere
on the path is an error, not a slower start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from word_images import labelled_folder, render_word

from ocr_lstm.checkpoint import read_checkpoint_info
from ocr_lstm.device import nvidia_driver_present
from ocr_lstm.recognition.runtime.onnx_cache import cached_onnx

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.skipif(nvidia_driver_present(), reason="with a GPU driver, auto asks torch for CUDA")

BLOCK_TORCH = "import sys; sys.modules['torch'] = None\n"  # any later import of torch raises


def run_without_torch(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", BLOCK_TORCH + code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture()
def exported(tiny_model_path: Path) -> Path:
    """The tiny checkpoint with its export in the session's cache (tests/conftest.py), as after a first start."""
    cached_onnx(read_checkpoint_info(tiny_model_path))
    return tiny_model_path


def test_a_recognizer_reads_crops_without_torch(exported: Path, tmp_path: Path) -> None:
    render_word("hello").save(tmp_path / "word.png")
    out = run_without_torch(
        "from ocr_lstm import Recognizer\n"
        f"recognizer = Recognizer({str(exported)!r}, threads=1)\n"
        f"result = recognizer.recognize({str(tmp_path / 'word.png')!r})[0]\n"
        "print(recognizer.backend, recognizer.describe()['parameters'] > 0, 0 <= result.confidence <= 1)"
    )
    assert out.split() == ["onnx", "True", "True"]


def test_a_labelled_set_is_evaluated_without_torch(exported: Path, tmp_path: Path) -> None:
    folder = labelled_folder(tmp_path / "set", ["one", "two"])
    out = run_without_torch(
        "from ocr_lstm import Recognizer\n"
        "from ocr_lstm.evaluation.crops import evaluate_dataset\n"
        f"print(evaluate_dataset(Recognizer({str(exported)!r}, threads=1), {str(folder)!r})['samples'])"
    )
    assert out.split() == ["3"]


def test_photos_are_read_and_a_folder_batched_without_torch(exported: Path, tmp_path: Path) -> None:
    canvas = Image.new("RGB", (400, 200), "white")
    canvas.paste(render_word("OPEN"), (60, 70))
    (tmp_path / "photos").mkdir()
    canvas.save(tmp_path / "photos" / "shop.png")
    np.save(tmp_path / "unused.npy", np.zeros(1))  # not an image: the batch must skip it
    out = run_without_torch(
        "from functools import partial\n"
        "from pathlib import Path\n"
        "from ocr_lstm import Recognizer\n"
        "from ocr_lstm.batch.engine import BatchJob, plan_batch, read_folder\n"
        "from ocr_lstm.batch.reading import photo_rows\n"
        "from ocr_lstm.detection import DBDetector\n"
        "from ocr_lstm.photo.pipeline import OCR, OCRConfig\n"
        "keep_all = OCRConfig(min_confidence=0.0, short_word_confidence=0.0)\n"  # a tiny model: little confidence
        f"ocr = OCR(DBDetector(threads=1), Recognizer({str(exported)!r}, threads=1), keep_all)\n"
        f"job = BatchJob(Path({str(tmp_path / 'photos')!r}), Path({str(tmp_path / 'pages.jsonl')!r}))\n"
        "print(read_folder(plan_batch(job), partial(photo_rows, ocr), workers=2).read)"
    )
    assert out.split() == ["1"]
    [row] = [json.loads(line) for line in (tmp_path / "pages.jsonl").read_text().splitlines()]
    assert row["path"] == "shop.png" and row["page"]["blocks"]  # the detector found the word


def test_the_service_starts_and_reads_without_torch(exported: Path, tmp_path: Path) -> None:
    """Nor does ``/v1/explain`` under ONNX Runtime: numpy replays the gate LSTM
    (ocr_lstm.recognition.runtime.onnx_gates)."""
    render_word("hello").save(tmp_path / "word.png")
    out = run_without_torch(
        "from fastapi.testclient import TestClient\n"
        "from service.app import create_app\n"
        "from service.main import check_startup\n"
        "from service.settings import ServiceSettings\n"
        f"settings = ServiceSettings(_env_file=None, model={str(exported)!r}, threads=1)\n"
        "check_startup(settings)  # what `ocr-lstm serve` checks before uvicorn starts\n"
        "with TestClient(create_app(settings)) as client:\n"
        "    ready = client.get('/readyz').status_code\n"
        f"    read = client.post('/v1/recognize', files={{'files': open({str(tmp_path / 'word.png')!r}, 'rb')}})\n"
        f"    word = open({str(tmp_path / 'word.png')!r}, 'rb')\n"
        "    explained = client.post('/v1/explain?format=json', files={'file': word})\n"
        "print(ready, read.status_code, len(read.json()), explained.status_code)"
    )
    assert out.split() == ["200", "200", "1", "200"]
