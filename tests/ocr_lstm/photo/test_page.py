"""A line's reading split into words by the CTC alignment; lines into blocks, blocks top to bottom and left to right."""

from __future__ import annotations

import numpy as np
import pytest
from ctc_frames import CHARSET, frames

from ocr_lstm.elements import Line, Word, box_polygon
from ocr_lstm.photo.page import arrange, label_frames, split_words
from ocr_lstm.recognition.ctc import best_alignment
from ocr_lstm.recognition.decoding import CTCDecoder


def labels(text: str) -> list[int]:
    return [CHARSET.symbols.index(c) + 1 for c in text]


def test_words_are_split_at_spaces_with_their_own_columns_and_frames() -> None:
    # 20 frames over 80 columns: 4 columns a frame.
    rows = ["-"] * 20
    for t, c in {2: "h", 4: "e", 6: "y", 10: " ", 14: "d", 16: "o"}.items():
        rows[t] = c
    log_probs = frames(*rows)
    decoded = CTCDecoder(CHARSET).decode(log_probs)
    assert decoded.text == "hey do"
    spans = label_frames(best_alignment(log_probs, labels(decoded.text)), len(decoded.text))
    words = split_words(decoded.text, decoded.char_confidences, spans, 20, 80.0)
    assert [w.text for w in words] == ["hey", "do"]
    first, second = words
    assert first.left == 0.0  # within a character of the line's start: the line's edge
    assert first.right == pytest.approx(4 * 6.5 + 0.6 * 8)  # last spike's centre + 0.6 of a character
    assert second.left == pytest.approx(4 * 14.5 - 0.6 * 8)
    assert second.right == pytest.approx(4 * 16.5 + 0.6 * 8)  # more than a character from the end
    assert (first.first_frame, first.end_frame) == (0, 10)
    assert (second.first_frame, second.end_frame) == (11, 20)
    assert first.right < second.left


def test_neighbouring_words_never_overlap() -> None:
    text = "ab cd"
    spans = [(2, 2), (6, 6), (7, 7), (8, 8), (12, 12)]  # a narrow space between wide-set letters
    words = split_words(text, [0.9] * 5, spans, 16, 64.0)
    assert words[0].right <= words[1].left


def test_a_reading_of_only_spaces_has_no_words() -> None:
    assert split_words("  ", [0.9, 0.9], [(1, 1), (3, 3)], 5, 20.0) == []


def test_mismatched_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="one frame span"):
        split_words("ab", [0.9], [(0, 0)], 4, 16.0)


def test_columns_scale_with_the_crop_not_the_model_input() -> None:
    words = split_words("ab", [0.9, 0.9], [(4, 4), (5, 5)], 10, 1000.0)
    assert words[0].left == pytest.approx((4.5 - 0.6) * 100)
    assert np.isclose(words[0].right, (5.5 + 0.6) * 100)


def line(text: str, left: float, top: float, right: float, bottom: float) -> Line:
    polygon = box_polygon(left, top, right, bottom)
    return Line((Word(text, 0.9, polygon),), polygon, 0.9)


def texts(blocks) -> list[list[str]]:
    return [[ln.text for ln in block.lines] for block in blocks]


def test_lines_under_one_another_form_one_block_in_order() -> None:
    lines = [line("second", 10, 50, 200, 80), line("first", 10, 10, 220, 40), line("third", 20, 90, 150, 120)]
    assert texts(arrange(lines)) == [["first", "second", "third"]]


def test_side_by_side_signs_are_read_left_to_right() -> None:
    lines = [line("right", 400, 12, 500, 40), line("left", 10, 10, 100, 40)]
    assert texts(arrange(lines)) == [["left"], ["right"]]


def test_a_far_lower_line_starts_a_new_block_below() -> None:
    lines = [line("top", 10, 10, 200, 40), line("bottom", 10, 300, 200, 330)]
    assert texts(arrange(lines)) == [["top"], ["bottom"]]


def test_a_much_taller_line_does_not_join_a_small_one() -> None:
    lines = [line("TITLE", 10, 10, 300, 90), line("small print", 10, 95, 300, 110)]
    assert texts(arrange(lines)) == [["TITLE"], ["small print"]]


def test_block_polygons_hold_their_lines() -> None:
    (block,) = arrange([line("a", 10, 10, 200, 40), line("b", 30, 45, 250, 75)])
    assert block.polygon == box_polygon(10, 10, 250, 75)


def test_no_lines_give_no_blocks() -> None:
    assert arrange([]) == ()
