"""Reading order: lines grouped into blocks, blocks and lines top to bottom, left to right.

Lines join a block when they sit under one another like the lines of a sign or a
paragraph: a small vertical gap, overlapping columns and similar heights. Blocks
whose tops lie within half a line height of each other form a row, read left to
right. Only axis-aligned boxes are compared: good enough for the mostly
horizontal text of photos and screenshots, and never a reason to drop a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ocr_lstm.elements import Block, Line, bounding_box, box_polygon


@dataclass(frozen=True)
class LayoutConfig:
    max_gap: float = 0.8  # vertical gap between two lines of a block, in line heights
    max_height_ratio: float = 1.6  # taller line over shorter line within a block
    row_tolerance: float = 0.5  # tops of blocks in one row differ by at most this many line heights


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
