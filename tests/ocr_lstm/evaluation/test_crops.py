"""Reading a labelled set of crops: each reading stays with its own label, scored as ``ocr-lstm eval`` reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from word_images import labelled_folder

from ocr_lstm.evaluation.crops import evaluate_dataset, read_dataset
from ocr_lstm.recognition.recognizer import Recognition, Recognizer

WORDS = ["hello", "world", "42"]


@pytest.fixture()
def labelled(tmp_path: Path) -> Path:
    return labelled_folder(tmp_path / "set", WORDS)


def test_evaluate_dataset_scores_the_readings_against_the_labels_in_order(
    labelled: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readings (one right, one right but for case, one wrong; the corrupt file reads as
    nothing) must be paired with their own labels, whatever the model."""
    recognizer = Recognizer(tiny_model_path, device="cpu")
    readings = ["hello", "World", "43"]
    monkeypatch.setattr(
        recognizer, "recognize_prepared", lambda prepared: [Recognition(t, 1.0) for t in readings[: len(prepared)]]
    )
    row = evaluate_dataset(recognizer, str(labelled))
    assert row["samples"] == 4 and row["unreadable"] == 1
    assert row["word_accuracy"] == pytest.approx(50.0)  # hello, world of 4
    assert row["case_sensitive_accuracy"] == pytest.approx(25.0)  # hello
    # edits: W->w 1, 43 vs 42 1, "" vs broken 6; over 5 + 5 + 2 + 6 label characters
    assert row["cer"] == pytest.approx(8 / 18, abs=1e-4)


@pytest.mark.parametrize("chunk_size", [1, 2, 4096])
def test_read_dataset_in_chunks_keeps_each_reading_with_its_label(
    labelled: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    """Chunk boundaries (one between the readable crops, one before the corrupt file)
    must not shift readings against labels."""
    recognizer = Recognizer(tiny_model_path, device="cpu")
    readings = iter(["hello", "World", "43"])
    monkeypatch.setattr(
        recognizer, "recognize_prepared", lambda prepared: [Recognition(next(readings), 1.0) for _ in prepared]
    )
    result = read_dataset(recognizer, str(labelled), chunk_size=chunk_size)
    assert result.labels == [*WORDS, "broken"]
    assert result.texts == ["hello", "World", "43", ""]
