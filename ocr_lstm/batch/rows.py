"""The rows a batch writes, one per image, as JSONL or CSV, and what a resumed run reads back.

A row is ``{"path", "text", "confidence"}`` with ``path`` relative to the folder, posix
style; an unreadable file's row has ``text`` and ``confidence`` None and an ``error``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

Row = dict[str, Any]
RowFormat = Literal["jsonl", "csv"]
CSV_FIELDS = ["path", "text", "confidence", "error"]
CSV_HEADER = ",".join(CSV_FIELDS).encode()


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


def written_format(output: Path) -> RowFormat | None:
    """The format of the rows already in a non-empty ``output``, by its first line alone: JSONL rows open
    with ``{``, a CSV with its header. None for a file that holds neither."""
    with output.open("rb") as f:
        head = f.readline(len(CSV_HEADER) + 2)
    if head.startswith(b"{"):
        return "jsonl"
    return "csv" if head.rstrip(b"\r\n") == CSV_HEADER else None


def drop_partial_line(output: Path, block: int = 1 << 16) -> None:
    """Cut a last line left unfinished by an interruption, so appended rows start on a line of their own.

    In place: reads back from the end, ``block`` bytes at a time, to the last newline and truncates
    there. The rows before it are never read or rewritten, so a kill during the cut cannot lose them.
    """
    with output.open("r+b") as f:
        end = f.seek(0, 2)
        keep = _end_of_last_line(f, end, block)
        if keep < end:
            f.truncate(keep)


def _end_of_last_line(f: BinaryIO, end: int, block: int) -> int:
    """The offset just past the last newline before ``end`` (0 if there is none)."""
    while end > 0:
        start = max(0, end - block)
        f.seek(start)
        newline = f.read(end - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


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
