"""service/images.py: the type comes from the leading bytes; limits are checked before decoding."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from service.errors import ServiceError
from service.images import ImageLimits, open_image, sniff_format

LIMITS = ImageLimits(max_pixels=1_000_000, max_aspect_ratio=100)


def encode(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "white").save(buffer, format=format)
    return buffer.getvalue()


@pytest.mark.parametrize("format", ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"])
def test_accepted_formats_are_recognised_by_their_bytes(format: str) -> None:
    assert sniff_format(encode(format)) == format
    assert open_image(encode(format), LIMITS).size == (30, 20)


@pytest.mark.parametrize("data", [b"", b"GIF", b"<html>", b"RIFF\0\0\0\0WAVE", encode("PPM")])
def test_anything_else_is_not_sniffed(data: bytes) -> None:
    assert sniff_format(data) is None


def test_a_huge_image_is_refused_from_its_header_without_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("L", (4000, 4000)).save(buffer, format="PNG")  # 16 Mpx, a few kB compressed
    started = time.perf_counter()
    with pytest.raises(ServiceError) as refused:
        open_image(buffer.getvalue(), LIMITS)
    assert refused.value.status == 413 and refused.value.kind == "too_many_pixels"
    assert time.perf_counter() - started < 0.5
