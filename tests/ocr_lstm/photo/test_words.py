"""Splitting a line's reading into words by the CTC alignment."""

from __future__ import annotations

import numpy as np
import pytest
from ctc_frames import CHARSET, frames

from ocr_lstm.photo.words import label_frames, split_words
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
