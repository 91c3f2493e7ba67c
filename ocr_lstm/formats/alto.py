"""ALTO 4 XML of a reading: the format libraries and digitisation workflows (METS/ALTO, OCR-D, the
Library of Congress's own) keep OCR in.

Positions are whole pixels of the photo, the same boxes :func:`~ocr_lstm.formats.hocr.to_hocr` writes,
and each element also carries its polygon as a ``Shape``: the box alone loses a rotated line's slant,
and the polygon's order (clockwise from the text's top left) tells which way the text reads. Element
ids are hOCR's, so the two documents name the same word alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from lxml import etree

from ocr_lstm import __version__
from ocr_lstm.elements import Page, Polygon
from ocr_lstm.formats.hocr import as_pages, pixel_box

ALTO = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{ALTO} http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"

Box = tuple[int, int, int, int]


def to_alto(pages: Page | Sequence[Page]) -> str:
    """An ALTO document with one ``Page`` per page, in order.

    ALTO names a single source image per document, so ``fileName`` is written when the pages share
    one source; for several photos, write one document per page. A line without words is left out,
    as an ALTO ``TextLine`` must hold a ``String``.
    """
    pages = as_pages(pages)
    root = etree.Element(f"{{{ALTO}}}alto", nsmap={None: ALTO, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    description = _sub(root, "Description")
    _sub(description, "MeasurementUnit").text = "pixel"
    sources = {page.source for page in pages if page.source is not None}
    if len(sources) == 1:
        _sub(_sub(description, "sourceImageInformation"), "fileName").text = sources.pop()
    processing = _sub(description, "OCRProcessing", ID="OCR_0")
    software = _sub(_sub(processing, "ocrProcessingStep"), "processingSoftware")
    _sub(software, "softwareName").text = "ocr-lstm"
    _sub(software, "softwareVersion").text = __version__
    layout = _sub(root, "Layout")
    for number, page in enumerate(pages, start=1):
        _add_page(layout, page, number)
    document: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return document.decode("utf-8")


def _add_page(layout: etree._Element, page: Page, number: int) -> None:
    size = {"WIDTH": str(page.width), "HEIGHT": str(page.height)}
    element = _sub(layout, "Page", ID=f"page_{number}", PHYSICAL_IMG_NR=str(number), **size)
    space = _sub(element, "PrintSpace", HPOS="0", VPOS="0", **size)
    line_ids = itertools.count(1)
    word_ids = itertools.count(1)
    for block_id, block in enumerate(page.blocks, start=1):
        text_block = _sub(space, "TextBlock", ID=f"block_{number}_{block_id}",
                          **_position(block.polygon, page))
        _add_shape(text_block, block.polygon, page)
        for line in block.lines:
            line_id = next(line_ids)
            if not line.words:
                continue
            text_line = _sub(text_block, "TextLine", ID=f"line_{number}_{line_id}",
                             **_position(line.polygon, page))
            _add_shape(text_line, line.polygon, page)
            previous: Box | None = None
            for word in line.words:
                box = pixel_box(word.polygon, page.width, page.height)
                if previous is not None:
                    _add_space(text_line, previous, box)
                string = _sub(text_line, "String", ID=f"word_{number}_{next(word_ids)}", CONTENT=word.text,
                              **_attributes(box), WC=str(round(min(max(word.confidence, 0.0), 1.0), 4)))
                _add_shape(string, word.polygon, page)
                previous = box


def _add_space(text_line: etree._Element, before: Box, after: Box) -> None:
    """The ``SP`` between two words, spanning the gap from one's right edge to the next one's left.

    The words of a rotated or upside-down line overlap, or run right to left, in the page's x; there the
    gap has no width to give, and the ``SP`` is written bare.
    """
    gap = after[0] - before[2]
    if gap > 0:
        _sub(text_line, "SP", WIDTH=str(gap), HPOS=str(before[2]), VPOS=str(before[1]))
    else:
        _sub(text_line, "SP")


def _add_shape(parent: etree._Element, polygon: Polygon, page: Page) -> None:
    points = " ".join(
        f"{min(max(round(x), 0), page.width)},{min(max(round(y), 0), page.height)}" for x, y in polygon
    )
    _sub(_sub(parent, "Shape"), "Polygon", POINTS=points)


def _position(polygon: Polygon, page: Page) -> dict[str, str]:
    return _attributes(pixel_box(polygon, page.width, page.height))


def _attributes(box: Box) -> dict[str, str]:
    left, top, right, bottom = box
    return {"HPOS": str(left), "VPOS": str(top), "WIDTH": str(right - left), "HEIGHT": str(bottom - top)}


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{ALTO}}}{tag}", attributes)
