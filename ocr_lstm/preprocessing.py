"""Pure functions that turn user images into model input, and batches of them.

Every crop is converted to grayscale, resized to the model's input height keeping
its aspect ratio (width bounded), and scaled to [-1, 1]. Batches are formed from
crops sorted by width and padded only to the widest crop of each batch, so a
batch of short words never pays for one long one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, fields
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from ocr_lstm.model.config import WIDTH_STRIDE

if TYPE_CHECKING:
    import torch

ImageInput = str | Path | bytes | bytearray | Image.Image | np.ndarray
# The file names taken for images wherever a folder is searched for them (batch, Ray, photo sets).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pbm", ".pgm", ".ppm"})


class ImageDecodeError(ValueError):
    """The input is not a readable image (corrupt, empty, unsupported or too large)."""


@dataclass(frozen=True)
class PreprocessConfig:
    """How crops become tensors; stored in the checkpoint config with the model."""

    height: int = 32
    min_width: int = 16
    max_width: int = 512
    # Crops taller than this ratio (h / w) are treated as rotated text.
    vertical_ratio: float = 1.5
    max_pixels: int = 40_000_000

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        """From a checkpoint's JSON, ignoring keys this version does not know
        (as ``CRNNConfig.from_dict`` does), so newer checkpoints still load."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def load_image(source: ImageInput, max_pixels: int = PreprocessConfig.max_pixels) -> np.ndarray:
    """Decode any supported input into an RGB ``uint8`` array of shape (H, W, 3).

    EXIF orientation is applied, palette/alpha/16-bit modes are converted, and
    images with more than ``max_pixels`` pixels are refused before decoding
    (decompression bombs).
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        return _pil_to_rgb(source, max_pixels)
    try:
        with Image.open(_stream(source)) as image:
            return _pil_to_rgb(image, max_pixels)
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image: {exc}") from exc


@dataclass(frozen=True)
class DecodedPhoto:
    """A photo decoded for reading: ``image`` (RGB) at most the reading size, and the photo's own
    upright ``width`` and ``height``, in which its page's polygons are given."""

    image: np.ndarray
    width: int
    height: int

    @property
    def scale(self) -> tuple[float, float]:
        """Photo pixels per pixel of ``image``, across and down."""
        return self.width / self.image.shape[1], self.height / self.image.shape[0]


def load_photo(source: ImageInput, max_pixels: int, read_pixels: int) -> DecodedPhoto:
    """Decode a whole photo of up to ``max_pixels`` pixels (more are refused before decoding),
    at most ``read_pixels`` of them: a larger photo is decoded smaller (JPEG's DCT scaling
    decodes a 48-Mpx photo at a quarter of its pixels in a fraction of the time and memory),
    then resized to fit. Text that a phone's 48 Mpx hold is still legible at 16 Mpx, and the
    detector sees at most ``DetectorConfig.max_side`` pixels across anyway."""
    if isinstance(source, np.ndarray):
        rgb = _array_to_rgb(source)
        height, width = rgb.shape[:2]
        return DecodedPhoto(_fit_pixels(rgb, read_pixels), width, height)
    if isinstance(source, Image.Image):
        return _pil_to_photo(source, max_pixels, read_pixels)
    try:
        with Image.open(_stream(source)) as image:
            return _pil_to_photo(image, max_pixels, read_pixels)
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image: {exc}") from exc


def _stream(source: ImageInput) -> io.BytesIO | Path:
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageDecodeError("empty image data")
        return io.BytesIO(bytes(source))
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ImageDecodeError(f"no such file: {path}")
        if path.stat().st_size == 0:
            raise ImageDecodeError(f"empty file: {path}")
        return path
    raise TypeError(f"unsupported image input type: {type(source).__name__}")


def _pil_to_photo(image: Image.Image, max_pixels: int, read_pixels: int) -> DecodedPhoto:
    width, height = image.size
    if width * height > max_pixels:
        raise ImageDecodeError(f"image has {width * height} pixels, more than the limit of {max_pixels}")
    if width * height > read_pixels:
        factor = (read_pixels / (width * height)) ** 0.5
        image.draft("RGB", (int(width * factor) + 1, int(height * factor) + 1))  # JPEG only; others decode whole
    turned = image.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)  # a quarter turn swaps the sides
    rgb = _pil_to_rgb(image, max_pixels)
    return DecodedPhoto(_fit_pixels(rgb, read_pixels), *((height, width) if turned else (width, height)))


def _fit_pixels(rgb: np.ndarray, pixels: int) -> np.ndarray:
    """``rgb`` scaled down (area averaging) to at most ``pixels`` pixels, aspect kept."""
    height, width = rgb.shape[:2]
    if width * height <= pixels:
        return rgb
    factor = (pixels / (width * height)) ** 0.5
    size = (max(1, int(width * factor)), max(1, int(height * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _pil_to_rgb(image: Image.Image, max_pixels: int) -> np.ndarray:
    width, height = image.size
    if width == 0 or height == 0:
        raise ImageDecodeError("image has zero width or height")
    if width * height > max_pixels:
        raise ImageDecodeError(f"image has {width * height} pixels, more than the limit of {max_pixels}")
    image.load()  # surfaces truncated data as an error here, not later
    image = _upright(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = Image.fromarray((np.asarray(image, dtype=np.float32) / 256.0).clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; without one, the image itself (no copy:
    ``exif_transpose`` copies every image, a tenth of the time a crop takes to decode)."""
    if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
        return image
    return ImageOps.exif_transpose(image)


def _to_uint8_scale(array: np.ndarray) -> float:
    """Factor onto 0-255: floats in [0, 1] scale up, 16-bit integers (as cv2 reads a
    16-bit PNG) scale down, other integers are taken as already 0-255."""
    if array.dtype.kind == "f":
        return 255.0 if array.max(initial=0) <= 1.0 else 1.0
    if array.dtype.kind in "iu" and array.dtype.itemsize >= 2 and array.max(initial=0) > 255:
        return 1.0 / 256.0
    return 1.0


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    if array.size == 0 or array.ndim not in (2, 3):
        raise ImageDecodeError(f"expected a non-empty HxW or HxWxC array, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = (array.astype(np.float32) * _to_uint8_scale(array)).clip(0, 255).astype(np.uint8)
    if array.ndim == 2:
        return np.stack([array] * 3, axis=-1)
    channels = array.shape[2]
    if channels == 1:
        return np.repeat(array, 3, axis=2)
    if channels == 4:
        # Onto white, as for an RGBA file: transparent pixels often hide black.
        alpha = array[..., 3:].astype(np.float32) / 255.0
        return (array[..., :3] * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    if channels != 3:
        raise ImageDecodeError(f"unsupported number of channels: {channels}")
    return array


def to_grayscale(rgb: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) to luminance (H, W), both ``uint8``."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def is_vertical(gray: np.ndarray, ratio: float = PreprocessConfig.vertical_ratio) -> bool:
    """Whether a crop is so much taller than wide that it must hold rotated text."""
    height, width = gray.shape[:2]
    return height > ratio * width


def target_width(height: int, width: int, config: PreprocessConfig) -> int:
    """Width after resizing to ``config.height`` with the aspect ratio kept and bounded."""
    scaled = round(width * config.height / max(height, 1))
    scaled = min(max(scaled, config.min_width), config.max_width)
    return -(-scaled // WIDTH_STRIDE) * WIDTH_STRIDE


def resize_to_height(gray: np.ndarray, config: PreprocessConfig) -> np.ndarray:
    """Resize a grayscale crop to the model's height, aspect ratio kept, width bounded."""
    height, width = gray.shape[:2]
    new_width = target_width(height, width, config)
    shrinking = new_width * config.height < width * height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (new_width, config.height), interpolation=interpolation)


def prepare_crop(source: ImageInput, config: PreprocessConfig) -> np.ndarray:
    """Decode, grayscale and resize."""
    return resize_to_height(to_grayscale(load_image(source, config.max_pixels)), config)


@dataclass(frozen=True)
class PreparedImage:
    """A decoded image as model-ready crops: one, or three for a tall crop (as given and turned both ways)."""

    crops: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class ImagePreparation:
    """The recognizer's image preparation: any supported input to a :class:`PreparedImage`.

    A tall crop is a rotated word or a single upright letter ("I", "1"), so it is read
    as given and turned a quarter both ways; the recognizer keeps the most confident
    reading (:func:`ocr_lstm.recognition.decoding.most_confident_turn`).
    """

    config: PreprocessConfig

    def prepare(self, image: ImageInput) -> PreparedImage:
        """Decode, grayscale and resize one image; raises ImageDecodeError for unreadable input."""
        gray = to_grayscale(load_image(image, self.config.max_pixels))
        if is_vertical(gray, self.config.vertical_ratio):
            turns = (gray, np.rot90(gray, 1), np.rot90(gray, -1))
            return PreparedImage(tuple(resize_to_height(np.ascontiguousarray(t), self.config) for t in turns))
        return PreparedImage((resize_to_height(gray, self.config),))


def pad_batch(crops: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack resized crops into a (B, 1, H, W_max) float32 array in [-1, 1], zero padded.

    Returns the batch and each crop's width (int64), which the model turns into
    sequence lengths so that padding never leaks into the prediction.
    """
    if not crops:
        raise ValueError("cannot batch zero crops")
    height = crops[0].shape[0]
    widths = np.array([c.shape[1] for c in crops], dtype=np.int64)
    batch = np.zeros((len(crops), 1, height, int(widths.max())), dtype=np.float32)
    for i, crop in enumerate(crops):
        batch[i, 0, :, : crop.shape[1]] = crop.astype(np.float32) / 127.5 - 1.0
    return batch, widths


def to_tensor(crops: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`pad_batch` as torch tensors, for training and the PyTorch runner."""
    import torch  # only here: the ONNX Runtime path prepares crops without torch

    batch, widths = pad_batch(crops)
    return torch.from_numpy(batch), torch.from_numpy(widths)


def width_sorted_batches(widths: Sequence[int], batch_size: int, max_columns: int | None = None) -> list[list[int]]:
    """Indices grouped into batches of similar width (narrowest first): at most ``batch_size`` each,
    and at most ``max_columns`` columns once padded (the count times the widest), a crop wider
    than that alone. The model's activations grow with the padded columns, so the cap bounds
    memory; without it a batch of 32 of the widest crops held ~400 MB in ONNX Runtime's arena.

    Crops of one width fill batches of their own first: such a batch has no padding, which ONNX
    Runtime runs 13-18 % faster (:class:`~ocr_lstm.recognition.runtime.onnx_runner.OnnxRunner`), and resized
    crops come in few widths (multiples of 4 px; 82 over 8,210 real crops). What is left of
    each width is pooled with its neighbours."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")

    def capacity(width: int) -> int:
        return batch_size if max_columns is None else max(1, min(batch_size, max_columns // max(width, 1)))

    batches: list[list[int]] = []
    leftovers: list[int] = []
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    for width, same in groupby(order, key=lambda i: widths[i]):
        group, size = list(same), capacity(width)
        full = len(group) - len(group) % size
        batches.extend(group[start : start + size] for start in range(0, full, size))
        leftovers.extend(group[full:])
    pooled: list[list[int]] = []
    for index in leftovers:
        batch = pooled[-1] if pooled else []
        if not batch or len(batch) >= capacity(widths[index]):
            pooled.append(batch := [])
        batch.append(index)
    # Narrowest first, as before; sorted() is stable, so equal widths keep their order.
    return sorted(batches + pooled, key=lambda batch: widths[batch[-1]])
