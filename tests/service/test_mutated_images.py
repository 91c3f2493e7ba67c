"""Mutated images of every accepted format: each gets a 200 or a JSON 4xx, never a 5xx or a traceback.

A seeded mutation fuzz beside the schema fuzz of ``test_openapi_fuzz.py``: valid word images in
each format the service accepts have bytes flipped, overwritten, cut, repeated or spliced, and
are posted to ``/v1/recognize`` (and, one in four, as photos to ``/v1/ocr``). A longer run:

    OCR_LSTM_FUZZ_MUTATIONS=3000 pytest tests/service/test_mutated_images.py   # 18,000 images
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from service_testing import make_settings, serving, word_bytes

from service.app import create_app

pytestmark = pytest.mark.anyio

MUTATIONS_PER_FORMAT = int(os.environ.get("OCR_LSTM_FUZZ_MUTATIONS", "12"))
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")

Mutation = Callable[[bytearray, np.random.Generator], bytearray]


def flip_bits(data: bytearray, rng: np.random.Generator) -> bytearray:
    for position in rng.integers(0, len(data), size=int(rng.integers(1, 9))):
        data[position] ^= 1 << int(rng.integers(0, 8))
    return data


def overwrite_bytes(data: bytearray, rng: np.random.Generator) -> bytearray:
    """Extreme values where headers keep sizes and offsets, and anywhere else."""
    start = int(rng.integers(0, min(len(data), 64))) if rng.random() < 0.6 else int(rng.integers(0, len(data)))
    run = int(rng.integers(1, 5))
    data[start : start + run] = bytes([int(rng.choice([0x00, 0x7F, 0x80, 0xFF]))]) * run
    return data


def truncate(data: bytearray, rng: np.random.Generator) -> bytearray:
    return data[: int(rng.integers(0, len(data)))]


def repeat_a_slice(data: bytearray, rng: np.random.Generator) -> bytearray:
    start = int(rng.integers(0, len(data)))
    piece = data[start : start + int(rng.integers(1, 256))]
    return data[:start] + piece * int(rng.integers(2, 16)) + data[start:]


def splice_random_bytes(data: bytearray, rng: np.random.Generator) -> bytearray:
    start = int(rng.integers(0, len(data)))
    noise = rng.integers(0, 256, size=int(rng.integers(1, 512)), dtype=np.uint8).tobytes()
    return data[:start] + noise + data[start + int(rng.integers(0, 64)) :]


MUTATIONS: tuple[Mutation, ...] = (flip_bits, overwrite_bytes, truncate, repeat_a_slice, splice_random_bytes)


def mutate(original: bytes, rng: np.random.Generator) -> bytes:
    data = bytearray(original)
    for _ in range(int(rng.integers(1, 4))):
        if not data:
            break
        data = MUTATIONS[int(rng.integers(0, len(MUTATIONS)))](data, rng)
    return bytes(data)


@pytest.mark.parametrize("format", FORMATS)
async def test_mutated_images_get_a_reading_or_a_json_4xx(tiny_model_path: Path, format: str) -> None:
    rng = np.random.default_rng(FORMATS.index(format))
    original = word_bytes("fuzzing", format=format)
    statuses: Counter[int] = Counter()
    # A generous queue: this checks what each image does, not admission under load.
    settings = make_settings(tiny_model_path, request_timeout_s=60.0)
    async with serving(create_app(settings)) as client:
        for index in range(MUTATIONS_PER_FORMAT):
            image = mutate(original, rng)
            route = "/v1/ocr" if index % 4 == 3 else "/v1/recognize"
            response = await client.post(route, files={"file": (f"x.{format.lower()}", image)})
            statuses[response.status_code] += 1
            assert response.status_code < 500, (route, response.status_code, response.text)
            assert response.headers["content-type"] == "application/json", response.headers
            assert "Traceback" not in response.text
            if response.status_code != 200:
                assert isinstance(response.json()["detail"], str)
        # The server is unharmed: an intact image is still read.
        intact = await client.post("/v1/recognize", files={"file": ("x", original)})
        assert intact.status_code == 200, intact.text
    print(f"{format}: {MUTATIONS_PER_FORMAT} mutated images, statuses {dict(sorted(statuses.items()))}")


def test_mutations_change_the_image_and_are_seeded() -> None:
    original = word_bytes("fuzzing")
    assert mutate(original, np.random.default_rng(7)) == mutate(original, np.random.default_rng(7))
    changed = [mutate(original, np.random.default_rng(seed)) != original for seed in range(50)]
    assert sum(changed) >= 48
