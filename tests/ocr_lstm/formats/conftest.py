"""Readings built by hand: a shop sign photo's page and an empty one."""

from __future__ import annotations

import math

import pytest

from ocr_lstm.elements import Block, Line, Page, Polygon, Word, box_polygon

# Text that must be escaped in XML, in a word and in an attribute.
MARKUP = 'A&B<"C">'


def rotated_box(cx: float, cy: float, width: float, height: float, degrees: float) -> Polygon:
    """A ``width`` x ``height`` box centred on ``(cx, cy)`` whose text runs ``degrees`` clockwise of
    the page's x axis (y points down), clockwise from the text's top left."""
    ux, uy = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    vx, vy = -uy, ux
    w, h = width / 2, height / 2
    return (
        (cx - ux * w - vx * h, cy - uy * w - vy * h),
        (cx + ux * w - vx * h, cy + uy * w - vy * h),
        (cx + ux * w + vx * h, cy + uy * w + vy * h),
        (cx - ux * w + vx * h, cy - uy * w + vy * h),
    )


ANGLE = 25.0
ROTATED_LINE = rotated_box(110, 220, 150, 30, ANGLE)


def _along(offset: float, width: float) -> Polygon:
    """A word of the rotated line, centred ``offset`` pixels along it from the line's centre."""
    cx = 110 + offset * math.cos(math.radians(ANGLE))
    cy = 220 + offset * math.sin(math.radians(ANGLE))
    return rotated_box(cx, cy, width, 30, ANGLE)


@pytest.fixture
def page() -> Page:
    """A 400x300 photo: a sign of two upright lines (one holding ``MARKUP``, one ending in bare
    space), and a line tilted by 25 degrees on its own, in the photo's lower left.

    Nothing is drawn right of x=300 below y=200.
    """
    sign = Block(
        lines=(
            Line(
                words=(
                    Word("OPEN", 0.98, box_polygon(30, 30, 130, 70)),
                    Word("daily", 0.75, box_polygon(140, 30, 245, 70)),
                ),
                polygon=box_polygon(25, 25, 250, 75),
                confidence=0.74,
            ),
            Line(
                words=(
                    Word(MARKUP, 0.42, box_polygon(30.4, 90.6, 199.5, 119.2)),
                    Word("7/7", 0.001, box_polygon(210, 90, 280, 120)),
                ),
                polygon=box_polygon(25, 85, 375, 125),
                confidence=0.4,
            ),
        ),
        polygon=box_polygon(20, 20, 380, 130),
    )
    tilted = Block(
        lines=(
            Line(
                words=(Word("sale", 0.9, _along(-39, 70)), Word("now", 0.8, _along(37, 66))),
                polygon=ROTATED_LINE,
                confidence=0.72,
            ),
        ),
        polygon=ROTATED_LINE,
    )
    return Page(blocks=(sign, tilted), width=400, height=300, source="photos/shop sign.jpg")


@pytest.fixture
def empty_page() -> Page:
    """A photo in which nothing was found."""
    return Page(blocks=(), width=120, height=80, source="blank.png")
