"""Uploaded bytes to model-ready images, refusing anything unsafe or unreadable.

The type is sniffed from the content (never the file name or the declared
content type) and restricted to a few raster formats, so no exotic decoder
(EPS through Ghostscript, say) ever sees user data. Size and shape are checked
from the header, before any pixel is decoded; the header is read once (``open_image``),
and the image it opened is what is decoded once the request is admitted.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from ocr_lstm.io import DecodedPhoto, load_image, load_photo
from ocr_lstm.predictors import PreparedImage, Recognizer
from service.errors import ServiceError

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")

# Leading bytes of each accepted format: tells "a broken PNG" (422) from "not an image we read" (415).
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


@dataclass(frozen=True)
class ImageLimits:
    """What an endpoint accepts: ``max_pixels`` (named by its ``setting`` in the 413), the aspect
    ratio and, for photos, ``read_pixels``: a larger photo is decoded at most that large, and
    costs only that much."""

    max_pixels: int
    max_aspect_ratio: float
    setting: str = "OCR_LSTM_MAX_PIXELS"
    read_pixels: int | None = None

    def cost(self, pixels: int) -> int:
        """The pixels an image of ``pixels`` is read at."""
        return pixels if self.read_pixels is None else min(pixels, self.read_pixels)


def sniff_format(data: bytes) -> str | None:
    """The accepted format that ``data`` starts like, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for signature, name in SIGNATURES if data.startswith(signature)), None)


def open_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Identify ``data`` and check its dimensions without decoding the pixels."""
    if not data:
        raise ServiceError(422, "empty upload: the file has no bytes", "empty")
    sniffed = sniff_format(data)
    if sniffed is None:
        raise ServiceError(
            415, f"not a supported image (accepted: {', '.join(ALLOWED_FORMATS)})", "unsupported"
        )
    try:
        image = Image.open(io.BytesIO(data), formats=[sniffed])
    except Image.DecompressionBombError as exc:
        raise ServiceError(413, f"image too large: {exc}", "too_many_pixels") from exc
    except Exception as exc:  # malformed headers raise anything from SyntaxError to struct.error
        reason = "" if isinstance(exc, UnidentifiedImageError) else f": {exc}"
        raise ServiceError(
            422, f"malformed {sniffed} (bad header, zero width or height, or truncated){reason}", "corrupt"
        ) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ServiceError(422, f"image has zero width or height ({width}x{height})", "zero_size")
    if width * height > limits.max_pixels:
        raise ServiceError(
            413,
            f"image has {width}x{height} = {width * height} pixels, more than the limit of {limits.max_pixels} "
            f"({limits.setting} raises it)",
            "too_many_pixels",
        )
    ratio = max(width, height) / min(width, height)
    if ratio > limits.max_aspect_ratio:
        raise ServiceError(
            422,
            f"image is {width}x{height}, more elongated than the limit of {limits.max_aspect_ratio:g}:1",
            "bad_shape",
        )
    return image


def pixels(image: Image.Image) -> int:
    """Width x height of an upload opened by ``open_image``, known from its header alone."""
    return image.width * image.height


def decode_upload(image: Image.Image, limits: ImageLimits) -> np.ndarray:
    """Decode one upload, opened (and checked) by ``open_image``, to RGB (blocking: call it from a worker
    thread)."""
    try:
        with image:
            return load_image(image, limits.max_pixels)
    except Exception as exc:  # truncated or corrupt pixel data: PIL raises OSError, ValueError, EOFError...
        raise ServiceError(422, f"cannot decode image: {exc}", "corrupt") from exc


def decode_photo_upload(image: Image.Image, limits: ImageLimits) -> DecodedPhoto:
    """Decode one photo, opened (and checked) by ``open_image``, at most ``limits.read_pixels`` large
    (blocking: call it from a worker thread); its page goes back to the photo's own pixels with
    ``to_photo_pixels``."""
    try:
        with image:
            return load_photo(image, limits.max_pixels, limits.read_pixels or limits.max_pixels)
    except Exception as exc:  # truncated or corrupt pixel data: PIL raises OSError, ValueError, EOFError...
        raise ServiceError(422, f"cannot decode image: {exc}", "corrupt") from exc


def prepare_upload(recognizer: Recognizer, image: Image.Image, limits: ImageLimits) -> PreparedImage:
    """Decode and resize one upload opened by ``open_image`` (blocking: call it from a worker thread)."""
    return recognizer.prepare(decode_upload(image, limits))
