"""The library's face for what goes in and comes out: images decoded with their limits, found in
folders, and the readings, as objects (:mod:`ocr_lstm.elements`), their JSON form and the formats
other tools read (hOCR, ALTO, a drawing), for the service, the engines and the benchmarks (as
docTR's callers import ``doctr.io``)."""

from __future__ import annotations

from ocr_lstm.batch.engine import find_images
from ocr_lstm.elements import (
    Block,
    BlockJSON,
    CharConfidence,
    CharJSON,
    Line,
    LineJSON,
    Page,
    PageJSON,
    Recognition,
    RecognitionJSON,
    Word,
    WordJSON,
    box_polygon,
)
from ocr_lstm.formats import draw_page, encode_png, to_alto, to_hocr
from ocr_lstm.preprocessing import (
    IMAGE_SUFFIXES,
    DecodedPhoto,
    ImageDecodeError,
    ImageInput,
    load_image,
    load_photo,
    to_grayscale,
)

__all__ = [
    "IMAGE_SUFFIXES", "Block", "BlockJSON", "CharConfidence", "CharJSON", "DecodedPhoto", "ImageDecodeError",
    "ImageInput", "Line", "LineJSON", "Page", "PageJSON", "Recognition", "RecognitionJSON", "Word", "WordJSON",
    "box_polygon", "draw_page", "encode_png", "find_images", "load_image", "load_photo", "to_alto", "to_grayscale",
    "to_hocr",
]
