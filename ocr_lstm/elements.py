"""What reading returns, as plain data: a crop's :class:`Recognition`, and a photo's
:class:`Page` of :class:`Block` s of :class:`Line` s of :class:`Word` s.

Geometry is in the pixels of the image the user gave: a polygon is a tuple of
``(x, y)`` points, clockwise from the top-left corner of the text as it reads (so a
line read upside down starts at the photo's bottom right). Nothing here imports
torch, the model or the detector.

``export()`` (``as_dict()`` for a crop) gives the JSON form, whose shape is declared once, here, by the
``...JSON`` types: every way out writes it (``ocr-lstm ocr --json``, the batch rows, the REST API, whose
schemas extend these types, so its answers and its OpenAPI document cannot drift from them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from typing_extensions import TypedDict  # pydantic (the service's schemas) reads only this one on Python 3.11

Point = tuple[float, float]
Polygon = tuple[Point, ...]


class CharJSON(TypedDict):
    """A character and the model's confidence in it, in [0, 1]."""

    char: str
    confidence: float


class RecognitionJSON(TypedDict):
    """A crop's reading: its text, the confidence of the whole reading in [0, 1], and each character."""

    text: str
    confidence: float
    chars: list[CharJSON]


class WordJSON(TypedDict):
    """A word: its text; its confidence in [0, 1], the product of its characters'; its polygon, [x, y]
    points in the photo's pixels clockwise from the text's top left; and each character."""

    text: str
    confidence: float
    polygon: list[list[float]]
    chars: list[CharJSON]


class LineJSON(TypedDict):
    """A text line: its words joined by single spaces; the reading's confidence in [0, 1]; the detector's
    mean text probability in the line (detection_score, in [0, 1]); its polygon; and its words."""

    text: str
    confidence: float
    detection_score: float
    polygon: list[list[float]]
    words: list[WordJSON]


class BlockJSON(TypedDict):
    """Lines that belong together: their text joined by newlines, the polygon around them, and the lines."""

    text: str
    polygon: list[list[float]]
    lines: list[LineJSON]


class PageJSON(TypedDict):
    """A photo's reading: the photo's name (source, its path or the uploaded file's name, when it has one),
    its width and height in pixels, the text of its blocks in reading order separated by blank lines, and the
    blocks, top to bottom and left to right."""

    source: str | None
    width: int
    height: int
    text: str
    blocks: list[BlockJSON]


def bounding_box(polygon: Polygon) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of the axis-aligned box around ``polygon``."""
    xs = [p[0] for p in polygon]
    ys = [p[1] for p in polygon]
    return min(xs), min(ys), max(xs), max(ys)


def box_polygon(left: float, top: float, right: float, bottom: float) -> Polygon:
    """The four corners of an axis-aligned box, clockwise from the top left."""
    return ((left, top), (right, top), (right, bottom), (left, bottom))


def scale_polygon(polygon: Polygon, scale_x: float, scale_y: float) -> Polygon:
    """``polygon`` with every x times ``scale_x`` and every y times ``scale_y``."""
    return tuple((x * scale_x, y * scale_y) for x, y in polygon)


def _export_polygon(polygon: Polygon) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in polygon]


@dataclass(frozen=True)
class CharConfidence:
    char: str
    confidence: float


@dataclass(frozen=True)
class Recognition:
    """One crop's text, its confidence in [0, 1] and each character's."""

    text: str
    confidence: float
    chars: list[CharConfidence] = field(default_factory=list)

    def as_dict(self) -> RecognitionJSON:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "chars": _export_chars(self.chars),
        }


def _export_chars(chars: Sequence[CharConfidence]) -> list[CharJSON]:
    return [{"char": c.char, "confidence": round(c.confidence, 4)} for c in chars]


@dataclass(frozen=True)
class Word:
    """A word of a line: its text, confidence (the product of its characters'), and
    polygon in the photo."""

    text: str
    confidence: float
    polygon: Polygon
    chars: tuple[CharConfidence, ...] = ()

    def export(self) -> WordJSON:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "polygon": _export_polygon(self.polygon),
            "chars": _export_chars(self.chars),
        }


@dataclass(frozen=True)
class Line:
    """A text line as the detector found it and the recognizer read it.

    ``confidence`` is the line reading's; ``detection_score`` the detector's mean
    text probability inside ``polygon``.
    """

    words: tuple[Word, ...]
    polygon: Polygon
    confidence: float
    detection_score: float = 1.0

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    def export(self) -> LineJSON:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "detection_score": round(self.detection_score, 4),
            "polygon": _export_polygon(self.polygon),
            "words": [word.export() for word in self.words],
        }


@dataclass(frozen=True)
class Block:
    """Lines that belong together (a sign, a paragraph), in reading order."""

    lines: tuple[Line, ...]
    polygon: Polygon

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def export(self) -> BlockJSON:
        return {"text": self.text, "polygon": _export_polygon(self.polygon),
                "lines": [line.export() for line in self.lines]}


@dataclass(frozen=True)
class Page:
    """One photo's reading: blocks top to bottom, left to right. ``source`` names the
    photo (its path, or the uploaded file's name) when it has one."""

    blocks: tuple[Block, ...]
    width: int
    height: int
    source: str | None = None

    @property
    def lines(self) -> list[Line]:
        return [line for block in self.blocks for line in block.lines]

    def scaled(self, scale_x: float, scale_y: float, width: int, height: int) -> Page:
        """This page with every polygon scaled, for a photo of ``width`` x ``height``: the page of
        a photo that was read smaller than it is, in the photo's own pixels."""
        def line(old: Line) -> Line:
            words = tuple(replace(w, polygon=scale_polygon(w.polygon, scale_x, scale_y)) for w in old.words)
            return replace(old, words=words, polygon=scale_polygon(old.polygon, scale_x, scale_y))

        blocks = tuple(
            Block(tuple(line(old) for old in block.lines), scale_polygon(block.polygon, scale_x, scale_y))
            for block in self.blocks
        )
        return Page(blocks, width, height, self.source)

    @property
    def words(self) -> list[Word]:
        return [word for line in self.lines for word in line.words]

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)

    def export(self) -> PageJSON:
        return {
            "source": self.source,
            "width": self.width,
            "height": self.height,
            "text": self.text,
            "blocks": [block.export() for block in self.blocks],
        }
