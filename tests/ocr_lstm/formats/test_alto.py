from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from ocr_lstm.elements import Block, Line, Page, Word, box_polygon
from ocr_lstm.formats import to_alto
from ocr_lstm.formats.hocr import pixel_box

NS = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
SCHEMA = Path(__file__).parent / "schemas" / "alto-4-4.xsd"


def parse(document: str) -> etree._Element:
    return etree.fromstring(document.encode("utf-8"))


def find(root: etree._Element, path: str) -> list[etree._Element]:
    return root.xpath(path, namespaces=NS)


@pytest.fixture(scope="module")
def alto_schema() -> etree.XMLSchema:
    if not SCHEMA.is_file():
        pytest.skip(f"the ALTO 4.4 schema is not at {SCHEMA} (see schemas/README.md for where it comes from)")
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def test_the_document_is_alto_4_and_describes_pixels_the_photo_and_the_software(page: Page) -> None:
    root = parse(to_alto(page))

    assert root.tag == "{http://www.loc.gov/standards/alto/ns-v4#}alto"
    assert [e.text for e in find(root, "a:Description/a:MeasurementUnit")] == ["pixel"]
    file_names = find(root, "a:Description/a:sourceImageInformation/a:fileName")
    assert [e.text for e in file_names] == ["photos/shop sign.jpg"]
    software = "a:Description/a:OCRProcessing/a:ocrProcessingStep/a:processingSoftware/a:softwareName"
    assert [e.text for e in find(root, software)] == ["ocr-lstm"]


def test_the_page_and_its_print_space_cover_the_photo(page: Page) -> None:
    root = parse(to_alto(page))

    (alto_page,) = find(root, "a:Layout/a:Page")
    assert dict(alto_page.attrib) == {"ID": "page_1", "PHYSICAL_IMG_NR": "1", "WIDTH": "400", "HEIGHT": "300"}
    (space,) = find(alto_page, "a:PrintSpace")
    assert dict(space.attrib) == {"HPOS": "0", "VPOS": "0", "WIDTH": "400", "HEIGHT": "300"}


def test_blocks_lines_and_strings_nest_with_hocrs_ids_and_boxes(page: Page) -> None:
    root = parse(to_alto(page))

    blocks = find(root, "//a:TextBlock")
    assert [b.get("ID") for b in blocks] == ["block_1_1", "block_1_2"]
    assert [len(find(b, "a:TextLine")) for b in blocks] == [2, 1]
    assert [s.get("ID") for s in find(root, "//a:TextLine/a:String")] == [f"word_1_{i}" for i in range(1, 7)]
    string = find(root, "//a:String")[2]
    assert [string.get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == ["30", "90", "170", "30"]
    line = find(root, "//a:TextLine")[2]
    left, top, right, bottom = pixel_box(page.blocks[1].lines[0].polygon, 400, 300)
    assert [line.get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == [
        str(left), str(top), str(right - left), str(bottom - top)
    ]


def test_strings_round_trip_their_content_including_markup_characters(page: Page) -> None:
    document = to_alto(page)

    contents = [s.get("CONTENT") for s in find(parse(document), "//a:String")]
    assert contents == [word.text for word in page.words]
    assert contents[2] == 'A&B<"C">'
    assert 'A&B<"C">' not in document


def test_word_confidence_is_a_fraction_between_0_and_1(page: Page) -> None:
    confidences = [float(s.get("WC")) for s in find(parse(to_alto(page)), "//a:String")]

    assert confidences == [0.98, 0.75, 0.42, 0.001, 0.9, 0.8]


def test_a_space_between_upright_words_spans_the_gap_from_one_to_the_next(page: Page) -> None:
    first_line = find(parse(to_alto(page)), "//a:TextLine")[0]

    assert [etree.QName(e).localname for e in first_line] == ["Shape", "String", "SP", "String"]
    assert dict(first_line[2].attrib) == {"WIDTH": "10", "HPOS": "130", "VPOS": "30"}


def test_a_space_between_the_overlapping_boxes_of_a_tilted_lines_words_is_bare(page: Page) -> None:
    tilted = find(parse(to_alto(page)), "//a:TextLine")[2]
    first, second = (pixel_box(word.polygon, 400, 300) for word in page.blocks[1].lines[0].words)

    assert second[0] < first[2]  # the fixture's premise: the upright boxes overlap
    assert [dict(sp.attrib) for sp in find(tilted, "a:SP")] == [{}]


def test_each_element_keeps_its_polygon_as_a_shape(page: Page) -> None:
    root = parse(to_alto(page))

    points = find(root, "//a:TextLine")[2].find("a:Shape/a:Polygon", NS).get("POINTS")
    expected = [(round(x), round(y)) for x, y in page.blocks[1].lines[0].polygon]
    assert [tuple(int(v) for v in p.split(",")) for p in points.split()] == expected
    assert len(find(root, "//a:String/a:Shape/a:Polygon")) == len(page.words)
    assert len(find(root, "//a:TextBlock/a:Shape/a:Polygon")) == len(page.blocks)


def test_a_line_without_words_is_left_out_and_keeps_its_number() -> None:
    word = Word("only", 0.6, box_polygon(40, 5, 60, 15))
    lines = (Line((), box_polygon(0, 0, 30, 20), 0.0), Line((word,), box_polygon(35, 0, 65, 20), 0.6))
    page = Page((Block(lines, box_polygon(0, 0, 70, 20)),), width=80, height=30)

    assert [e.get("ID") for e in find(parse(to_alto(page)), "//a:TextLine")] == ["line_1_2"]


def test_several_pages_are_numbered_and_name_their_photo_only_when_they_share_one(
    page: Page, empty_page: Page
) -> None:
    root = parse(to_alto([page, empty_page]))

    assert [p.get("PHYSICAL_IMG_NR") for p in find(root, "//a:Page")] == ["1", "2"]
    assert [p.get("ID") for p in find(root, "//a:Page")] == ["page_1", "page_2"]
    assert find(root, "//a:sourceImageInformation") == []


def test_the_documents_validate_against_the_alto_4_4_schema(
    alto_schema: etree.XMLSchema, page: Page, empty_page: Page
) -> None:
    for pages in (page, empty_page, [page, empty_page]):
        document = etree.fromstring(to_alto(pages).encode("utf-8"))
        assert alto_schema.validate(document), alto_schema.error_log
