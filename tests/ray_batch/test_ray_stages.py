"""The Ray engine's stages as plain functions: decoding bytes with our limits, reading decoded images into rows."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from ray_testing import CROPS, crop_folder
from word_images import render_word

from ocr_lstm.batch.reading import RowImage, crop_rows
from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.recognizer import Recognizer
from ray_batch.stages import ReaderSpec, decode_file, pack, unpack


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_corrupt_file_becomes_an_error_naming_the_file_not_a_memory_address() -> None:
    item = decode_file("sub/bad.png", b"\x89PNG\r\n\x1a\n not really a png", 40_000_000, gray=True)
    assert item.image is None
    assert item.error == "cannot decode image: cannot identify image file 'sub/bad.png'"


def test_an_empty_file_is_an_error_too() -> None:
    assert decode_file("empty.jpg", b"", 40_000_000, gray=True).error == "empty image data"


def test_an_image_over_the_pixel_limit_is_refused() -> None:
    item = decode_file("big.png", png_bytes(Image.new("RGB", (200, 100))), max_pixels=19_999, gray=True)
    assert item.image is None and "more than the limit of 19999" in (item.error or "")


def test_crops_decode_to_grayscale_and_photos_to_rgb() -> None:
    data = png_bytes(render_word("hello"))
    gray, rgb = decode_file("a.png", data, 40_000_000, gray=True), decode_file("a.png", data, 40_000_000, gray=False)
    assert gray.image is not None and gray.image.ndim == 2 and gray.image.dtype == np.uint8
    assert rgb.image is not None and rgb.image.shape == (*gray.image.shape, 3)


def test_pixels_cross_between_stages_unchanged() -> None:
    image = np.random.default_rng(0).integers(0, 256, (7, 13, 3), dtype=np.uint8)
    assert np.array_equal(unpack(pack(image)), image)


def test_decoded_crops_read_as_the_recognizer_reads_their_files(tmp_path: Path, tiny_model_path: Path) -> None:
    folder = crop_folder(tmp_path / "crops")
    recognizer = Recognizer(tiny_model_path, device="cpu")
    names = [*CROPS, "corrupt.png"]
    items = [decode_file(name, (folder / name).read_bytes(), 40_000_000, gray=True) for name in names]
    rows = crop_rows(recognizer, items)
    assert [row["path"] for row in rows] == names  # in order, the error row in its place
    expected = [recognizer.recognize(folder / name)[0] for name in CROPS]
    assert [row["text"] for row in rows[:-1]] == [r.text for r in expected]
    assert [row["confidence"] for row in rows[:-1]] == pytest.approx([r.confidence for r in expected], abs=1e-4)
    assert rows[-1] == {"path": "corrupt.png", "text": None, "confidence": None, "error": items[-1].error}


def test_an_unreadable_photo_gets_a_null_page(tiny_model_path: Path) -> None:
    read = ReaderSpec(tiny_model_path, RecognizerOptions(device="cpu", threads=1), photos=True).build()
    assert read([RowImage("a.png", None, "bad")]) == [{"path": "a.png", "text": None, "page": None, "error": "bad"}]


def test_the_pixel_limit_comes_from_the_checkpoint_and_a_bad_model_fails_early(tmp_path: Path,
                                                                               tiny_model_path: Path) -> None:
    assert ReaderSpec(tiny_model_path).max_pixels() == 40_000_000
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        ReaderSpec(tmp_path / "absent").max_pixels()
