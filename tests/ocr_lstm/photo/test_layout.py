"""Reading order: lines into blocks, blocks top to bottom and left to right."""

from __future__ import annotations

from ocr_lstm.elements import Line, Word, box_polygon
from ocr_lstm.photo.layout import arrange


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
