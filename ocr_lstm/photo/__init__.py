"""Whole photos: detect text lines, cut each out upright, read it, split it into words
with their polygons in the photo (:class:`ocr_lstm.photo.pipeline.OCR`)."""
