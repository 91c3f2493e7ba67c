"""The output folder: shards of rows, each run adding its own, and the paths they already hold.

A JSONL shard is flushed after every batch, so an interrupted run loses only the rows in
flight and at most cuts its last line, which the next run drops and redoes (as the local
engine's ``--resume`` does). A Parquet shard is written whole under a temporary name and
renamed, so a shard that exists is complete; an interruption loses its unwritten rows.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from ocr_lstm.batch.rows import CSV_FIELDS, done_paths, drop_partial_line

ShardFormat = Literal["jsonl", "parquet"]
PARQUET_SCHEMA = pa.schema([(name, pa.float64() if name == "confidence" else pa.string()) for name in CSV_FIELDS])
UNFINISHED = ".tmp"


def written_paths(folder: Path) -> set[str]:
    """The paths the folder's shards already hold, of either format; first cuts a JSONL line left unfinished."""
    paths: set[str] = set()
    for shard in sorted(folder.glob("*.jsonl")):
        drop_partial_line(shard)
        paths |= done_paths(shard, "jsonl")
    for shard in sorted(folder.glob("*.parquet")):
        paths.update(pq.read_table(shard, columns=["path"]).column("path").to_pylist())
    return paths


def run_name() -> str:
    """A prefix for this run's shards: they sort by start time and never collide with an earlier run's."""
    return f"part-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


class ShardWriter:
    """Rows (each a JSON object as text) into ``{run}-{n:05d}.{fmt}`` shards of at most ``rows_per_shard`` rows."""

    def __init__(self, folder: Path, fmt: ShardFormat, rows_per_shard: int) -> None:
        if rows_per_shard < 1:
            raise ValueError(f"rows_per_shard must be at least 1, got {rows_per_shard}")
        self.folder, self.fmt, self.rows_per_shard = folder, fmt, rows_per_shard
        self.prefix = run_name()
        self.shards: list[Path] = []
        self.count = 0  # rows in the current shard
        self.stream: TextIO | None = None
        self.pending: list[dict] = []  # Parquet rows not yet written

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def write(self, row: str) -> None:
        if self.count == self.rows_per_shard:
            self._finish_shard()
        if self.count == 0:
            self.shards.append(self.folder / f"{self.prefix}-{len(self.shards):05d}.{self.fmt}")
            if self.fmt == "jsonl":
                self.stream = self.shards[-1].open("w", encoding="utf-8")
        if self.stream is not None:
            self.stream.write(row + "\n")
        else:
            self.pending.append(json.loads(row))
        self.count += 1

    def flush(self) -> None:
        """After each batch: what a JSONL shard holds is on disk."""
        if self.stream is not None:
            self.stream.flush()

    def close(self) -> None:
        if self.count:
            self._finish_shard()

    def _finish_shard(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        else:
            unfinished = self.shards[-1].with_name(self.shards[-1].name + UNFINISHED)
            pq.write_table(pa.Table.from_pylist(self.pending, schema=PARQUET_SCHEMA), unfinished)
            unfinished.rename(self.shards[-1])
            self.pending = []
        self.count = 0
