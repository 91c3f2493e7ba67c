"""The rows a batch writes, one per image, as JSONL or CSV, and what a resumed run reads back.

A row is ``{"path", "text", "confidence"}`` with ``path`` relative to the folder, posix
style; an unreadable file's row has ``text`` and ``confidence`` None and an ``error``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Literal, TextIO

Row = dict[str, Any]
RowFormat = Literal["jsonl", "csv"]
CSV_FIELDS = ["path", "text", "confidence", "error"]


def output_format(output: Path) -> RowFormat:
    """CSV for a ``.csv`` output, else JSONL."""
    return "csv" if output.suffix.lower() == ".csv" else "jsonl"


def done_paths(output: Path, fmt: RowFormat) -> set[str]:
    """Relative paths already in an earlier output."""
    if not output.is_file():
        return set()
    with output.open(newline="", encoding="utf-8") as f:
        if fmt == "csv":
            return {row["path"] for row in csv.DictReader(f) if row.get("path")}
        paths = set()
        for line in f:
            try:
                paths.add(json.loads(line)["path"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut short by an interruption is simply redone
        return paths


def drop_partial_line(output: Path) -> None:
    """Cut a last line left unfinished by an interruption, so appended rows start on a line of their own."""
    data = output.read_bytes()
    if data and not data.endswith(b"\n"):
        output.write_bytes(data[: data.rfind(b"\n") + 1])


class RowWriter:
    """Writes rows to an open stream; a CSV gets its header unless it is being appended to."""

    def __init__(self, stream: TextIO, fmt: RowFormat, write_header: bool) -> None:
        self.stream, self.fmt = stream, fmt
        self.csv = csv.DictWriter(stream, CSV_FIELDS, extrasaction="ignore") if fmt == "csv" else None
        if self.csv is not None and write_header:
            self.csv.writeheader()

    def write(self, row: Row) -> None:
        if self.csv is not None:
            self.csv.writerow(row)
        else:
            self.stream.write(json.dumps(row, ensure_ascii=False) + "\n")
