"""benchmarks/lines.py: lines read whole and split, against their words cut singly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ocr_lstm.synth.fonts import find_fonts


def test_read_words_are_aligned_to_the_true_ones(lines) -> None:
    assert lines.aligned_right(["OPEN", "24", "HOURS"], ["open", "24", "hours"]) == 3
    assert lines.aligned_right(["OPEN24", "HOURS"], ["OPEN", "24", "HOURS"]) == 1  # a lost space costs its words
    assert lines.aligned_right(["NO", "PAR", "KING"], ["NO", "PARKING"]) == 1


def test_a_rendered_line_knows_where_its_words_are(lines) -> None:
    fonts = find_fonts()
    if not fonts:
        pytest.skip("no fonts installed")
    image, text, line_box, words = lines.render_line(random.Random(0), fonts)
    assert " ".join(word for word, _ in words) == text
    height = image.shape[0]
    for _, (left, top, right, bottom) in words:
        assert line_box[0] <= left < right <= line_box[2] and 0 <= top < bottom <= height
        assert (image[int(top) : int(bottom) + 1, int(left) : int(right) + 1] != image[0, 0]).any()


def test_the_benchmark_prints_its_figures(lines, tiny_model_path: Path, capsys: pytest.CaptureFixture) -> None:
    if not find_fonts():
        pytest.skip("no fonts installed")
    assert lines.main(["--model", str(tiny_model_path), "--count", "3", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "line CER" in out and "split out of lines" in out and "cut singly" in out
