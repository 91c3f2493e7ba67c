from __future__ import annotations

import math
import re

import lxml.html
from lxml import etree

from ocr_lstm.elements import Block, Line, Page, Word, box_polygon
from ocr_lstm.formats import to_hocr

NS = {"h": "http://www.w3.org/1999/xhtml"}


def parse(document: str) -> etree._Element:
    return etree.fromstring(document.encode("utf-8"))


def of_class(root: etree._Element, name: str) -> list[etree._Element]:
    return root.xpath(f".//*[@class='{name}']")


def test_the_document_parses_as_xhtml_and_names_the_system_and_its_capabilities(page: Page) -> None:
    root = parse(to_hocr(page))

    assert root.tag == "{http://www.w3.org/1999/xhtml}html"
    system = root.xpath("//h:meta[@name='ocr-system']/@content", namespaces=NS)
    capabilities = root.xpath("//h:meta[@name='ocr-capabilities']/@content", namespaces=NS)
    assert system[0].startswith("ocr-lstm ")
    assert {"ocr_page", "ocr_carea", "ocr_line", "ocrx_word", "ocrp_wconf"} <= set(capabilities[0].split())


def test_pages_blocks_lines_and_words_get_their_classes_and_tesseracts_ids(page: Page) -> None:
    root = parse(to_hocr(page))

    assert [e.get("id") for e in of_class(root, "ocr_page")] == ["page_1"]
    assert [e.get("id") for e in of_class(root, "ocr_carea")] == ["block_1_1", "block_1_2"]
    assert [e.get("id") for e in of_class(root, "ocr_line")] == ["line_1_1", "line_1_2", "line_1_3"]
    assert [e.get("id") for e in of_class(root, "ocrx_word")] == [f"word_1_{i}" for i in range(1, 7)]
    assert all(e.tag == "{http://www.w3.org/1999/xhtml}span" for e in of_class(root, "ocrx_word"))
    lines_per_block = [len(of_class(block, "ocr_line")) for block in of_class(root, "ocr_carea")]
    assert [len(block.xpath("*")) for block in of_class(root, "ocr_carea")] == lines_per_block == [2, 1]


def test_words_round_trip_their_text_including_markup_characters(page: Page) -> None:
    document = to_hocr(page)
    words = of_class(parse(document), "ocrx_word")

    assert [word.text for word in words] == [word.text for word in page.words]
    assert words[2].text == 'A&B<"C">'
    assert 'A&B<"C">' not in document  # escaped, not pasted


def test_x_wconf_is_the_words_confidence_as_a_whole_percentage(page: Page) -> None:
    titles = [word.get("title") for word in of_class(parse(to_hocr(page)), "ocrx_word")]

    assert [title.split("; ")[1] for title in titles] == [
        "x_wconf 98", "x_wconf 75", "x_wconf 42", "x_wconf 0", "x_wconf 90", "x_wconf 80"
    ]


def test_a_bbox_is_the_whole_pixel_upright_box_around_the_polygon(page: Page) -> None:
    root = parse(to_hocr(page))
    lines = of_class(root, "ocr_line")
    words = of_class(root, "ocrx_word")
    rotated = page.blocks[1].lines[0].polygon
    xs, ys = [x for x, _ in rotated], [y for _, y in rotated]

    assert words[2].get("title").startswith("bbox 30 90 200 120;")  # 30.4 90.6 199.5 119.2, outwards
    expected = f"bbox {math.floor(min(xs))} {math.floor(min(ys))} {math.ceil(max(xs))} {math.ceil(max(ys))}"
    assert lines[2].get("title") == expected


def test_a_polygon_past_the_photos_edge_gets_a_box_inside_the_page() -> None:
    word = Word("edge", 0.5, box_polygon(-4.5, 10, 60, 33.2))
    line = Line((word,), box_polygon(-6, 8, 61, 35), 0.5)
    page = Page((Block((line,), line.polygon),), width=50, height=30)

    word_title = of_class(parse(to_hocr(page)), "ocrx_word")[0].get("title")

    assert word_title == "bbox 0 10 50 30; x_wconf 50"


def test_the_page_title_names_the_image_its_size_and_its_number(page: Page) -> None:
    title = of_class(parse(to_hocr(page)), "ocr_page")[0].get("title")

    assert title == 'image "photos/shop sign.jpg"; bbox 0 0 400 300; ppageno 0'


def test_a_quote_in_the_image_name_is_escaped_inside_the_title() -> None:
    page = Page((), width=10, height=10, source='say "cheese".png')

    title = of_class(parse(to_hocr(page)), "ocr_page")[0].get("title")

    assert title == 'image "say \\"cheese\\".png"; bbox 0 0 10 10; ppageno 0'


def test_several_pages_are_numbered_in_order_and_their_ids_restart_per_page(
    page: Page, empty_page: Page
) -> None:
    root = parse(to_hocr([empty_page, page]))

    pages = of_class(root, "ocr_page")
    assert [p.get("id") for p in pages] == ["page_1", "page_2"]
    assert [p.get("title").rsplit("; ", 1)[1] for p in pages] == ["ppageno 0", "ppageno 1"]
    assert of_class(pages[0], "ocrx_word") == []
    assert of_class(root, "ocrx_word")[0].get("id") == "word_2_1"


def test_a_page_without_blocks_is_written_with_a_closing_tag_so_html_parsers_end_it(
    page: Page, empty_page: Page
) -> None:
    document = to_hocr([empty_page, page])

    assert re.findall(r"<(\w+)[^>]*/>", document) == ["meta"] * 3
    html_pages = lxml.html.document_fromstring(document.encode("utf-8")).find_class("ocr_page")
    assert [len(p.find_class("ocrx_word")) for p in html_pages] == [0, 6]
    assert html_pages[0].getparent() is html_pages[1].getparent()


def test_an_empty_word_and_an_empty_line_still_parse_as_html_siblings() -> None:
    line = Line((Word("", 0.1, box_polygon(1, 1, 5, 5)),), box_polygon(0, 0, 9, 9), 0.1)
    page = Page((Block((line, Line((), box_polygon(0, 10, 9, 19), 0.0)), box_polygon(0, 0, 9, 19)),), 20, 20)
    document = to_hocr(page)

    html_lines = lxml.html.document_fromstring(document.encode("utf-8")).find_class("ocr_line")
    assert [len(line.find_class("ocrx_word")) for line in html_lines] == [1, 0]
    assert [word.text for word in of_class(parse(document), "ocrx_word")] == [None]
