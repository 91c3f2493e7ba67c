"""A photo's read lines become its page: each line's reading split into words, each word with the crop
columns it came from, and the lines arranged into blocks in reading order (:func:`assemble`). What the
pipeline (:mod:`ocr_lstm.photo.pipeline`) cut and read, this module lays out; neither runs the model.

Words: CTC emits each character on a frame or two, near the middle of its glyph (the
spikes), and every frame covers the same number of crop columns. The best
alignment of the reading says which frames hold which character; a word spans
its first to its last character's spike, widened by half a character on each
side, since the spikes sit inside the glyphs, not at their edges. The frames
between two spaces are the word's own part of the CTC output, which a decoder can
read again with a word prior or a lexicon.

Reading order: lines join a block when they sit under one another like the lines of a sign or a
paragraph: a small vertical gap, overlapping columns and similar heights. Blocks
whose tops lie within half a line height of each other form a row, read left to
right. Only axis-aligned boxes are compared: good enough for the mostly
horizontal text of photos and screenshots, and never a reason to drop a line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr_lstm.detection.base import DetectedLine
from ocr_lstm.elements import Block, CharConfidence, Line, Page, Word, bounding_box, box_polygon
from ocr_lstm.geometry import LineCut, to_polygon
from ocr_lstm.photo.config import LayoutConfig, OCRConfig
from ocr_lstm.recognition.ctc import best_alignment
from ocr_lstm.recognition.decoding import CTCDecoder, CTCReading


@dataclass(frozen=True)
class LineCandidate:
    """One orientation of one detected line, cut out and resized for the model."""

    line: int
    quad: np.ndarray
    cut: LineCut
    model_input: np.ndarray


@dataclass(frozen=True)
class CandidateReading:
    """A candidate's frame log-probabilities and their reading as the model sees the line (no word prior)."""

    candidate: LineCandidate
    log_probs: np.ndarray
    decoded: CTCReading

    @property
    def frame_score(self) -> float:
        """Mean log-probability of the best class per frame: how sure the model is of what
        it sees, comparable between two orientations of one line (same number of frames)."""
        return float(self.log_probs.max(axis=1).mean()) if len(self.log_probs) else -np.inf


@dataclass(frozen=True)
class LineReading:
    """A detected line and the model's reading of it, before it is split into words."""

    reading: CandidateReading
    detected: DetectedLine


def assemble(
    lines: Sequence[LineReading], config: OCRConfig, word_decoder: CTCDecoder | None, width: int, height: int,
    source: str | None = None,
) -> Page:
    """A photo's page from its read lines: words split out (:func:`line_words`), lines arranged into blocks."""
    read_lines = [line for line in (line_words(r, config, word_decoder) for r in lines) if line is not None]
    return Page(arrange(read_lines, config.layout), width, height, source)


def line_words(line: LineReading, config: OCRConfig, word_decoder: CTCDecoder | None) -> Line | None:
    """``line`` split into words at its CTC alignment, each read again with ``word_decoder`` (a word prior or a
    lexicon) when there is one, and kept when it is read surely enough; ``None`` when no word is kept."""
    reading, detected = line.reading, line.detected
    decoded, log_probs = reading.decoded, reading.log_probs
    labels = list(decoded.labels)
    frames = label_frames(best_alignment(log_probs, labels), len(labels))
    cut = reading.candidate.cut
    spans = split_words(decoded.text, decoded.char_confidences, frames, len(log_probs), cut.crop.shape[1])
    words = []
    for span in spans:
        text, confidences = span.text, span.char_confidences
        as_read = float(np.prod(confidences))
        if word_decoder is not None:
            again = word_decoder.decode(log_probs[span.first_frame : span.end_frame])
            if again.text.strip() and " " not in again.text:
                text, confidences = again.text, tuple(again.char_confidences)
        confidence = float(np.prod(confidences))
        # Kept when the model read the word surely, or the word prior or lexicon reads it surely: a
        # lexicon's word can be a sure choice among a few where the letters alone were not.
        if max(as_read, confidence) < (
            config.short_word_confidence if len(text) < 3 else config.min_confidence
        ):
            continue
        chars = tuple(CharConfidence(c, p) for c, p in zip(text, confidences))
        polygon = cut.polygon_of_columns(span.left, span.right, config.word_height)
        words.append(Word(text, confidence, polygon, chars))
    if not words:
        return None
    confidence = float(np.prod([w.confidence for w in words]))
    return Line(tuple(words), to_polygon(reading.candidate.quad), confidence, detected.score)


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
    runs = [word.span() for word in re.finditer("[^ ]+", text)]  # (start, stop) of each word
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


def _box(line: Line) -> tuple[float, float, float, float]:
    return bounding_box(line.polygon)


def _belong_together(upper: Line, lower: Line, config: LayoutConfig) -> bool:
    a, b = _box(upper), _box(lower)
    height_a, height_b = max(a[3] - a[1], 1.0), max(b[3] - b[1], 1.0)
    gap = b[1] - a[3]
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    return (
        -0.5 * min(height_a, height_b) <= gap <= config.max_gap * min(height_a, height_b)
        and overlap > 0
        and max(height_a, height_b) / min(height_a, height_b) <= config.max_height_ratio
    )


def arrange(lines: Sequence[Line], config: LayoutConfig | None = None) -> tuple[Block, ...]:
    """Blocks of ``lines`` in reading order, each block's lines top to bottom."""
    config = config or LayoutConfig()
    ordered = sorted(lines, key=lambda line: (_box(line)[1], _box(line)[0]))
    groups: list[list[Line]] = []
    for line in ordered:
        home = next((g for g in groups if _belong_together(g[-1], line, config)), None)
        if home is None:
            groups.append([line])
        else:
            home.append(line)
    blocks = [_block(group) for group in groups]
    return tuple(_reading_order(blocks, config))


def _block(lines: list[Line]) -> Block:
    boxes = [_box(line) for line in lines]
    return Block(tuple(lines), box_polygon(min(b[0] for b in boxes), min(b[1] for b in boxes),
                                           max(b[2] for b in boxes), max(b[3] for b in boxes)))


def _reading_order(blocks: list[Block], config: LayoutConfig) -> list[Block]:
    remaining = sorted(blocks, key=lambda block: bounding_box(block.polygon)[1])
    ordered: list[Block] = []
    while remaining:
        first = bounding_box(remaining[0].polygon)
        first_line = _box(remaining[0].lines[0])
        tolerance = config.row_tolerance * max(first_line[3] - first_line[1], 1.0)
        row = [b for b in remaining if bounding_box(b.polygon)[1] - first[1] <= tolerance]
        ordered += sorted(row, key=lambda block: bounding_box(block.polygon)[0])
        remaining = [b for b in remaining if all(b is not r for r in row)]
    return ordered
