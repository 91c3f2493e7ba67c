"""A line's reading split into words, each with the crop columns it came from.

CTC emits each character on a frame or two, near the middle of its glyph (the
spikes), and every frame covers the same number of crop columns. The best
alignment of the reading says which frames hold which character; a word spans
its first to its last character's spike, widened by half a character on each
side, since the spikes sit inside the glyphs, not at their edges. The frames
between two spaces are the word's own part of the CTC output, which a decoder can
read again with a word prior or a lexicon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr_lstm.charset import word_spans


def label_frames(path: np.ndarray, count: int) -> list[tuple[int, int]]:
    """First and last frame of each of ``count`` labels on an alignment ``path``."""
    spans = []
    for k in range(count):
        frames = np.flatnonzero(path == k)
        spans.append((int(frames[0]), int(frames[-1])) if frames.size else (0, 0))
    return spans


@dataclass(frozen=True)
class WordSpan:
    """One word of a line: its characters, crop columns ``left``..``right``, and the frames
    ``[first_frame, end_frame)`` of the line's CTC output that belong to it."""

    text: str
    char_confidences: tuple[float, ...]
    left: float
    right: float
    first_frame: int
    end_frame: int


def split_words(
    text: str, char_confidences: Sequence[float], frames: Sequence[tuple[int, int]], frame_count: int,
    crop_width: float,
) -> list[WordSpan]:
    """Split a line's reading at its spaces; ``frames`` gives each character's first and last
    frame, and the line's ``frame_count`` frames cover ``crop_width`` columns evenly."""
    if len(text) != len(frames) or len(text) != len(char_confidences):
        raise ValueError("a reading needs one frame span and one confidence per character")
    columns_per_frame = crop_width / max(frame_count, 1)
    centres = [((first + last) / 2 + 0.5) * columns_per_frame for first, last in frames]
    runs = word_spans(text)
    if not runs:
        return []
    char_width = _character_width(runs, centres, crop_width, len(text))
    words = []
    for n, (start, stop) in enumerate(runs):
        left, right = centres[start] - 0.6 * char_width, centres[stop - 1] + 0.6 * char_width
        # Halfway to the neighbours' spikes at most; the line's own ends when that close to them.
        if n > 0:
            left = max(left, (centres[runs[n - 1][1] - 1] + centres[start]) / 2)
        elif left < char_width:
            left = 0.0
        if n < len(runs) - 1:
            right = min(right, (centres[stop - 1] + centres[runs[n + 1][0]]) / 2)
        elif crop_width - right < char_width:
            right = crop_width
        first_frame = frames[start - 1][1] + 1 if start > 0 else 0  # after the space before it
        end_frame = frames[stop][0] if stop < len(text) else frame_count  # up to the space after it
        words.append(WordSpan(
            text[start:stop], tuple(char_confidences[start:stop]), max(0.0, left), min(crop_width, right),
            first_frame, max(end_frame, first_frame + 1),
        ))
    return words


def _character_width(runs: list[tuple[int, int]], centres: list[float], crop_width: float, length: int) -> float:
    """The median spacing of neighbouring characters' spikes within words; for a line of
    one-letter words, its width over its length."""
    steps = [centres[i + 1] - centres[i] for start, stop in runs for i in range(start, stop - 1)]
    return float(np.median(steps)) if steps else crop_width / max(length, 1)
