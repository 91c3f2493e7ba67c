"""hOCR 1.2 of a reading, laid out as Tesseract writes it (``tesseract photo.png out hocr``), so the
tools made for Tesseract's hOCR (hocr-tools, OCRmyPDF's text layer, search indexers) read ours.

The document is XHTML: it parses as XML, and as HTML in a browser.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from lxml import etree

from ocr_lstm import __version__
from ocr_lstm.elements import Page, Polygon, bounding_box

XHTML = "http://www.w3.org/1999/xhtml"
# ocrp_wconf announces the x_wconf property, as the spec asks of every property a document uses.
CAPABILITIES = "ocr_page ocr_carea ocr_line ocrx_word ocrp_wconf"
_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
# The only element here that HTML knows to be empty. Any other written as <div/> reads, to a
# browser's HTML parser, as an opening tag that swallows the rest of the page.
_VOID = {f"{{{XHTML}}}meta"}


def as_pages(pages: Page | Sequence[Page]) -> list[Page]:
    """One page, or several, as a list."""
    return [pages] if isinstance(pages, Page) else list(pages)


def pixel_box(polygon: Polygon, width: int, height: int) -> tuple[int, int, int, int]:
    """The whole-pixel ``(left, top, right, bottom)`` box around ``polygon``, inside a ``width`` x
    ``height`` photo.

    hOCR and ALTO place text by axis-aligned boxes, so a rotated line gets the upright box that holds
    it. Rounding outwards keeps every point of the polygon inside the box; clipping to the photo keeps
    a polygon that the detector grew past the photo's edge from giving coordinates off the page.
    """
    left, top, right, bottom = bounding_box(polygon)
    return (
        min(max(math.floor(left), 0), width),
        min(max(math.floor(top), 0), height),
        max(min(math.ceil(right), width), 0),
        max(min(math.ceil(bottom), height), 0),
    )


def to_hocr(pages: Page | Sequence[Page]) -> str:
    """An hOCR document with one ``ocr_page`` per page, in order.

    Ids are Tesseract's: ``page_N``, then ``block_N_i``, ``line_N_j`` and ``word_N_k`` numbered from 1
    through page N. ``ppageno`` counts from 0, as Tesseract's does.
    """
    html = etree.Element(f"{{{XHTML}}}html", nsmap={None: XHTML})
    head = _sub(html, "head")
    _sub(head, "title")
    _sub(head, "meta", {"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"})
    _sub(head, "meta", {"name": "ocr-system", "content": f"ocr-lstm {__version__}"})
    _sub(head, "meta", {"name": "ocr-capabilities", "content": CAPABILITIES})
    body = _sub(html, "body")
    for number, page in enumerate(as_pages(pages), start=1):
        _add_page(body, page, number)
    for element in html.iter():  # an open and a close tag for every empty element but <meta>
        if len(element) == 0 and element.text is None and element.tag not in _VOID:
            element.text = ""
    document: bytes = etree.tostring(
        html, doctype=_DOCTYPE, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document.decode("utf-8")


def _add_page(body: etree._Element, page: Page, number: int) -> None:
    image = f'image "{_quoted(page.source)}"; ' if page.source is not None else ""
    title = f"{image}bbox 0 0 {page.width} {page.height}; ppageno {number - 1}"
    div = _sub(body, "div", {"class": "ocr_page", "id": f"page_{number}", "title": title})
    line_ids = itertools.count(1)
    word_ids = itertools.count(1)
    for block_id, block in enumerate(page.blocks, start=1):
        area = _sub(div, "div", {"class": "ocr_carea", "id": f"block_{number}_{block_id}",
                                 "title": _bbox(block.polygon, page)})
        for line in block.lines:
            span = _sub(area, "span", {"class": "ocr_line", "id": f"line_{number}_{next(line_ids)}",
                                       "title": _bbox(line.polygon, page)})
            for word in line.words:
                wconf = round(100 * min(max(word.confidence, 0.0), 1.0))
                title = f"{_bbox(word.polygon, page)}; x_wconf {wconf}"
                _sub(span, "span", {"class": "ocrx_word", "id": f"word_{number}_{next(word_ids)}",
                                    "title": title}).text = word.text


def _sub(parent: etree._Element, tag: str, attributes: dict[str, str] | None = None) -> etree._Element:
    return etree.SubElement(parent, f"{{{XHTML}}}{tag}", attributes or {})


def _bbox(polygon: Polygon, page: Page) -> str:
    return "bbox {} {} {} {}".format(*pixel_box(polygon, page.width, page.height))


def _quoted(text: str) -> str:
    """``text`` for inside an hOCR property's double quotes: a backslash before each quote and backslash,
    so that a quote in a file name cannot end the string early."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
