"""Running a plan: chunks read by worker threads at once, rows written in the planned order."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from ocr_lstm.batch.engine import BatchInterrupted, BatchJob, BatchPlan, read_folder
from ocr_lstm.batch.reading import RowImage
from ocr_lstm.batch.rows import Row


class SlowReader:
    """A stand-in chunk reader: a row per path after a delay that makes later chunks finish first,
    counting how many chunks it reads at once."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.lock = threading.Lock()
        self.running = self.most_at_once = self.calls = 0
        self.interrupt_at = interrupt_at

    def __call__(self, items: Sequence[RowImage]) -> list[Row]:
        with self.lock:
            call = self.calls
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if call == self.interrupt_at:
                raise KeyboardInterrupt
            time.sleep(0.05 if call % 2 == 0 else 0.005)  # even chunks are slow
            return [{"path": item.path, "text": Path(item.path).stem, "confidence": 1.0} for item in items]
        finally:
            with self.lock:
                self.running -= 1


def plan(tmp_path: Path, count: int, chunk: int) -> BatchPlan:
    images = [tmp_path / f"img{i:03d}.png" for i in range(count)]
    return BatchPlan(BatchJob(tmp_path, tmp_path / "rows.jsonl", chunk=chunk), images, skipped=0)


@pytest.mark.parametrize("workers", [1, 3])
def test_rows_come_out_in_the_planned_order_whatever_chunk_finishes_first(tmp_path: Path, workers: int) -> None:
    reader = SlowReader()
    summary = read_folder(plan(tmp_path, 23, chunk=2), reader, workers=workers)
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert [r["path"] for r in rows] == [f"img{i:03d}.png" for i in range(23)]
    assert (summary.read, summary.unreadable, reader.calls) == (23, 0, 12)
    assert reader.most_at_once == workers  # as many chunks at once as workers, never more


def test_ctrl_c_in_a_chunk_keeps_the_rows_of_the_chunks_before_it(tmp_path: Path) -> None:
    with pytest.raises(BatchInterrupted) as stop:
        read_folder(plan(tmp_path, 20, chunk=4), SlowReader(interrupt_at=2), workers=2)
    rows = (tmp_path / "rows.jsonl").read_text().splitlines()
    assert stop.value.written == len(rows) == 8 and stop.value.total == 20  # chunks 0 and 1, whole


def test_workers_must_be_at_least_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="workers"):
        read_folder(plan(tmp_path, 2, chunk=1), SlowReader(), workers=0)


def test_ctrl_c_keeps_the_chunks_that_finished_behind_an_unfinished_one(tmp_path: Path) -> None:
    """Ctrl-C while the first chunk is still being read and the next two are done: theirs are written
    (after the others, which resume does not mind), the first's are not."""
    # A shell starts background jobs with SIGINT ignored, and Python keeps it so: Ctrl-C as in a terminal.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    first_may_end = threading.Event()

    def reader(items: Sequence[RowImage]) -> list[Row]:
        if items[0].path == "img000.png":
            first_may_end.wait(10)
        elif items[0].path == "img002.png":  # the third chunk follows it at once; then Ctrl-C
            threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        return [{"path": item.path, "text": Path(item.path).stem, "confidence": 1.0} for item in items]

    try:
        with pytest.raises(BatchInterrupted) as stop:
            read_folder(plan(tmp_path, 6, chunk=2), reader, workers=2)
    finally:
        first_may_end.set()
        signal.signal(signal.SIGINT, previous)
    rows = [json.loads(line)["path"] for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert rows == ["img002.png", "img003.png", "img004.png", "img005.png"]
    assert (stop.value.written, stop.value.total) == (4, 6)
