"""A chunk read into rows, the one way every engine reads: files by path or decoded pixels alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from word_images import render_word

from ocr_lstm.batch.reading import RowImage, crop_rows, photo_rows
from ocr_lstm.preprocessing import load_image
from ocr_lstm.recognition.recognizer import Recognizer


class NoModel:
    """A recognizer that must not be called."""

    def prepare(self, image: object) -> object:
        raise AssertionError("an item without an image was decoded")

    def recognize_prepared(self, prepared: list[object]) -> list[object]:
        raise AssertionError("the model was called")


def test_a_batch_of_unreadable_files_needs_no_model_call() -> None:
    rows = crop_rows(NoModel(), [RowImage("a.png", None, "bad")])  # type: ignore[arg-type]
    assert rows == [{"path": "a.png", "text": None, "confidence": None, "error": "bad"}]


def test_a_file_and_its_decoded_pixels_give_the_same_row(tmp_path: Path, tiny_model_path: Path) -> None:
    path = tmp_path / "word.png"
    render_word("hello").save(path)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    recognizer = Recognizer(tiny_model_path, device="cpu", threads=1)
    by_path = crop_rows(recognizer, [RowImage("word.png", path), RowImage("corrupt.png", corrupt)])
    by_pixels = crop_rows(recognizer, [RowImage("word.png", load_image(path))])
    assert by_path[0] == by_pixels[0] and set(by_path[0]) == {"path", "text", "confidence"}
    assert by_path[1]["path"] == "corrupt.png" and by_path[1]["text"] is None and by_path[1]["error"]


def test_a_photo_row_holds_its_page_in_the_photo_pixels(tmp_path: Path, tiny_model_path: Path) -> None:
    from ocr_lstm.photo.pipeline import OCR

    class NoLines:
        def __call__(self, image: np.ndarray) -> list[object]:
            return []

    ocr = OCR(NoLines(), Recognizer(tiny_model_path, device="cpu", threads=1), orientation=False)  # type: ignore[arg-type]
    image = np.full((40, 90, 3), 255, dtype=np.uint8)
    (row,) = photo_rows(ocr, [RowImage("blank.png", image)])
    assert row == {"path": "blank.png", "text": "", "page": {"source": "blank.png", "width": 90, "height": 40,
                                                              "text": "", "blocks": []}}
