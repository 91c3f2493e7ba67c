"""A photo's reading (:class:`~ocr_lstm.elements.Page`) in the formats other tools read: hOCR and ALTO
XML, and a picture of the photo with what was read drawn on it."""

from ocr_lstm.formats.alto import to_alto
from ocr_lstm.formats.drawing import draw_page, encode_png
from ocr_lstm.formats.hocr import to_hocr

__all__ = ["draw_page", "encode_png", "to_alto", "to_hocr"]
