"""Reading labelled sets of cropped words and scoring the readings (``ocr-lstm eval``, the benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ocr_lstm.data.datasets import open_dataset
from ocr_lstm.metrics import score
from ocr_lstm.preprocessing import ImageDecodeError
from ocr_lstm.recognition.recognizer import PreparedImage, Recognition, Recognizer


@dataclass
class DatasetReadings:
    """A labelled set read by a recognizer: one reading per label (None where the
    image could not be decoded) and the seconds the readable ones took."""

    labels: list[str]
    readings: list[Recognition | None]
    seconds: float

    @property
    def texts(self) -> list[str]:
        return [r.text if r is not None else "" for r in self.readings]

    def summary(self) -> dict[str, float | int]:
        """Scores (unreadable images count as wrong), unreadable count and batched crops/s."""
        readable = sum(r is not None for r in self.readings)
        return {
            **score(self.texts, self.labels).as_dict(),
            "unreadable": len(self.readings) - readable,
            "crops_per_sec": round(readable / self.seconds, 1) if self.seconds > 0 else 0.0,
        }


def read_dataset(
    recognizer: Recognizer,
    path: str,
    label_file: str | None = None,
    indices: Sequence[int] | None = None,
    chunk_size: int = 4096,
) -> DatasetReadings:
    """Read every image of a labelled set (or those at ``indices``), batched; decoding time
    is not counted. Images are decoded ``chunk_size`` at a time, so memory stays flat on
    a large LMDB."""
    dataset = open_dataset(Path(path) / label_file) if label_file else open_dataset(path)
    chosen = list(range(len(dataset)) if indices is None else indices)
    labels: list[str] = []
    readings: list[Recognition | None] = []
    seconds = 0.0
    with tqdm(total=len(chosen), desc=f"read {dataset.name}", unit="img", leave=False) as progress:
        for begin in range(0, len(chosen), chunk_size):
            prepared: list[PreparedImage | None] = []
            for i in chosen[begin : begin + chunk_size]:
                image, text = dataset[i]
                labels.append(text)
                try:
                    prepared.append(recognizer.prepare(image))
                except ImageDecodeError:
                    prepared.append(None)
            start = time.perf_counter()
            results = iter(recognizer.recognize_prepared([p for p in prepared if p is not None]))
            seconds += time.perf_counter() - start
            readings.extend(next(results) if p is not None else None for p in prepared)
            progress.update(len(prepared))
    return DatasetReadings(labels, readings, seconds)


def evaluate_dataset(recognizer: Recognizer, path: str, label_file: str | None = None) -> dict[str, float | str | int]:
    """Scores of ``recognizer`` on one labelled set; unreadable images count as wrong."""
    dataset = str(path) if not label_file else f"{path}/{label_file}"
    return {"dataset": dataset, **read_dataset(recognizer, path, label_file).summary()}
