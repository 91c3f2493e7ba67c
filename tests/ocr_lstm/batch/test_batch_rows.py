"""The rows file: a torn last line is cut in place; the format of earlier rows is told by the first line."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from ocr_lstm.batch.rows import drop_partial_line, written_format


def row(i: int) -> bytes:
    return b'{"path": "sub/img%07d.png", "text": "a word", "confidence": 0.9731}\n' % i


def rows_file(path: Path, count: int, tail: bytes = b"") -> Path:
    path.write_bytes(b"".join(row(i) for i in range(count)) + tail)
    return path


def test_a_torn_last_line_is_cut_in_place_without_reading_the_file(tmp_path: Path) -> None:
    """A whole-file rewrite held the only copy in memory: a kill then left the file empty."""
    torn = b'{"path": "sub/last.png", "text": "' + b"x" * 200_000  # longer than a read-back block
    output = rows_file(tmp_path / "results.jsonl", 150_000, torn)  # ~10 MB
    size, inode = output.stat().st_size, output.stat().st_ino
    tracemalloc.start()
    try:
        drop_partial_line(output)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # a block at a time, not the file
    assert output.stat().st_ino == inode
    assert output.stat().st_size == size - len(torn)
    with output.open("rb") as f:
        f.seek(-2 * len(row(0)), 2)
        assert f.read() == row(149_998) + row(149_999)


def test_a_file_ending_in_a_newline_is_untouched(tmp_path: Path) -> None:
    output = rows_file(tmp_path / "results.jsonl", 1_000)
    before, stat = output.read_bytes(), output.stat()
    drop_partial_line(output)
    assert output.read_bytes() == before
    assert output.stat().st_mtime_ns == stat.st_mtime_ns


def test_a_file_of_one_torn_line_becomes_empty(tmp_path: Path) -> None:
    output = tmp_path / "results.jsonl"
    output.write_bytes(b'{"path": "a.p')
    drop_partial_line(output)
    assert output.read_bytes() == b""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"path": "a.png", "text": "x", "confidence": 0.5}\n', "jsonl"),
        (b'{"path": "a.p', "jsonl"),  # torn, still JSONL
        (b"path,text,confidence,error\r\na.png,x,0.5,\r\n", "csv"),
        (b"path,text,confidence,error\n", "csv"),
        (b"path,text\r\na.png,x\r\n", None),  # not the results header
        (b"some notes\n", None),
    ],
)
def test_the_format_of_earlier_rows_is_told_by_the_first_line(
    tmp_path: Path, content: bytes, expected: str | None
) -> None:
    output = tmp_path / "results"
    output.write_bytes(content)
    assert written_format(output) == expected
