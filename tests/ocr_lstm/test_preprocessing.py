"""Image inputs of every kind become RGB arrays, then height-normalised, batched tensors."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ocr_lstm.model.config import WIDTH_STRIDE
from ocr_lstm.preprocessing import (
    ImageDecodeError,
    ImagePreparation,
    PreprocessConfig,
    is_vertical,
    load_image,
    load_photo,
    prepare_crop,
    resize_to_height,
    target_width,
    to_grayscale,
    to_tensor,
    width_sorted_batches,
)


def two_tone(width: int = 40, height: int = 20) -> Image.Image:
    """Left half black, right half white: orientation is visible in the pixels."""
    array = np.full((height, width, 3), 255, np.uint8)
    array[:, : width // 2] = 0
    return Image.fromarray(array)


def encoded(image: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


# ---- load_image: inputs ---------------------------------------------------------------


def test_load_image_from_path_bytes_and_pil_agree(tmp_path: Path) -> None:
    image = two_tone()
    path = tmp_path / "word.png"
    image.save(path)
    from_path = load_image(path)
    assert from_path.shape == (20, 40, 3) and from_path.dtype == np.uint8
    np.testing.assert_array_equal(load_image(str(path)), from_path)
    np.testing.assert_array_equal(load_image(encoded(image)), from_path)
    np.testing.assert_array_equal(load_image(bytearray(encoded(image))), from_path)
    np.testing.assert_array_equal(load_image(image), from_path)


def test_load_image_from_gray_numpy_array_repeats_the_channel() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgb = load_image(gray)
    assert rgb.shape == (3, 4, 3)
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], gray)


def test_load_image_from_rgb_numpy_array_is_unchanged() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(load_image(rgb), rgb)


def test_load_image_from_single_channel_numpy_array() -> None:
    assert load_image(np.zeros((4, 6, 1), np.uint8)).shape == (4, 6, 3)


def test_float_array_in_unit_range_is_scaled_to_bytes() -> None:
    rgb = load_image(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert rgb.dtype == np.uint8
    assert rgb[0, :, 0].tolist() == [0, 127, 255]


def test_float_array_in_byte_range_is_kept() -> None:
    assert load_image(np.array([[0.0, 100.0, 255.0]]))[0, :, 0].tolist() == [0, 100, 255]


def test_rgba_png_is_composited_on_white() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)  # transparent black
    rgba[:2, :, 3] = 255  # top half opaque black
    rgb = load_image(encoded(Image.fromarray(rgba, "RGBA")))
    assert rgb[:2].max() == 0
    assert rgb[2:].min() == 255


def test_rgba_numpy_array_reads_like_the_same_rgba_png() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, 3] = 255
    rgba[3, :, 3] = 128
    np.testing.assert_allclose(
        load_image(rgba).astype(int), load_image(Image.fromarray(rgba, "RGBA")).astype(int), atol=1
    )


def test_palette_and_gray_pil_images_become_rgb() -> None:
    assert load_image(two_tone().convert("P")).shape == (20, 40, 3)
    assert load_image(two_tone().convert("L")).shape == (20, 40, 3)


def test_16_bit_png_is_scaled_to_8_bits() -> None:
    array = np.array([[0, 32768, 65535]], dtype=np.uint16)
    rgb = load_image(encoded(Image.fromarray(array)))
    assert rgb[0, :, 0].tolist() == [0, 128, 255]


def test_16_bit_array_as_cv2_reads_it_is_scaled_to_8_bits() -> None:
    array = np.array([[0, 32768, 65535]], dtype=np.uint16)
    assert load_image(array)[0, :, 0].tolist() == [0, 128, 255]


def test_wide_integer_array_already_in_byte_range_is_kept() -> None:
    array = np.array([[0, 128, 255]], dtype=np.int32)
    assert load_image(array)[0, :, 0].tolist() == [0, 128, 255]


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    data = encoded(two_tone(40, 20), "JPEG", exif=exif, quality=95)
    rgb = load_image(data)
    assert rgb.shape == (40, 20, 3)
    # The black left half ends up on top once turned clockwise.
    assert rgb[:15].mean() < 30 and rgb[25:].mean() > 225


def test_unsupported_input_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        load_image(42)  # type: ignore[arg-type]


# ---- load_image: failures ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40], ids=["empty", "text", "bad-png"]
)
def test_unreadable_bytes_raise_image_decode_error(data: bytes) -> None:
    with pytest.raises(ImageDecodeError):
        load_image(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_raises_image_decode_error(fmt: str) -> None:
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    data = encoded(noise, fmt)
    with pytest.raises(ImageDecodeError):
        load_image(data[: len(data) // 2])


def test_missing_and_empty_files_raise_image_decode_error(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match="no such file"):
        load_image(tmp_path / "absent.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageDecodeError, match="empty"):
        load_image(tmp_path / "empty.png")


def test_image_decode_error_is_a_value_error() -> None:
    assert issubclass(ImageDecodeError, ValueError)


@pytest.mark.parametrize("shape", [(0, 10), (10, 0), (0, 0, 3)])
def test_zero_size_array_raises_image_decode_error(shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageDecodeError):
        load_image(np.zeros(shape, np.uint8))


def test_zero_size_pil_image_raises_image_decode_error() -> None:
    with pytest.raises(ImageDecodeError):
        load_image(Image.new("RGB", (0, 5)))


def test_array_with_unsupported_channel_count_raises() -> None:
    with pytest.raises(ImageDecodeError):
        load_image(np.zeros((4, 4, 2), np.uint8))


def test_images_over_the_pixel_limit_are_refused() -> None:
    image = two_tone(100, 100)
    with pytest.raises(ImageDecodeError, match="limit"):
        load_image(image, max_pixels=9_999)
    with pytest.raises(ImageDecodeError, match="limit"):
        load_image(encoded(image), max_pixels=9_999)
    assert load_image(image, max_pixels=10_000).shape == (100, 100, 3)


def test_a_photo_over_the_reading_size_is_decoded_smaller_and_keeps_its_own_size() -> None:
    jpeg = encoded(two_tone(1600, 1200), "JPEG", quality=90)  # 1.92 Mpx
    photo = load_photo(jpeg, max_pixels=10_000_000, read_pixels=500_000)
    height, width = photo.image.shape[:2]
    assert width * height <= 500_000 and abs(width / height - 4 / 3) < 0.01
    assert (photo.width, photo.height) == (1600, 1200)
    assert photo.scale == (1600 / width, 1200 / height)
    small = load_photo(jpeg, max_pixels=10_000_000, read_pixels=2_000_000)
    assert small.image.shape == (1200, 1600, 3) and small.scale == (1.0, 1.0)


def test_a_photo_turned_by_its_exif_keeps_its_turned_size() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    photo = load_photo(encoded(two_tone(800, 400), "JPEG", exif=exif, quality=95), 10_000_000, 80_000)
    assert (photo.width, photo.height) == (400, 800)
    assert photo.image.shape[0] > photo.image.shape[1]


def test_photos_of_every_input_kind_are_fitted_and_refused_past_the_limit() -> None:
    image = two_tone(400, 300)
    for source in (image, np.asarray(image), encoded(image, "PNG")):
        photo = load_photo(source, max_pixels=200_000, read_pixels=30_000)
        assert photo.image.shape[0] * photo.image.shape[1] <= 30_000 and (photo.width, photo.height) == (400, 300)
    with pytest.raises(ImageDecodeError, match="limit"):
        load_photo(encoded(image, "PNG"), max_pixels=100_000, read_pixels=30_000)


# ---- resizing ---------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "width"), [(64, 128), (32, 100), (10, 50), (200, 90), (48, 30)])
def test_resize_keeps_height_fixed_and_aspect_ratio(height: int, width: int) -> None:
    config = PreprocessConfig()
    resized = resize_to_height(np.zeros((height, width), np.uint8), config)
    assert resized.shape[0] == config.height
    expected = width * config.height / height
    assert abs(resized.shape[1] - expected) <= WIDTH_STRIDE
    assert resized.shape[1] % WIDTH_STRIDE == 0


def test_resize_bounds_the_width() -> None:
    config = PreprocessConfig(min_width=16, max_width=128)
    assert resize_to_height(np.zeros((32, 2000), np.uint8), config).shape == (32, 128)
    assert resize_to_height(np.zeros((32, 3), np.uint8), config).shape == (32, 16)


@pytest.mark.parametrize("width", range(1, 60))
def test_target_width_is_a_multiple_of_four_within_bounds(width: int) -> None:
    config = PreprocessConfig(min_width=16, max_width=40)
    result = target_width(9, width, config)
    assert result % WIDTH_STRIDE == 0
    assert config.min_width <= result <= config.max_width


def test_is_vertical_detects_crops_much_taller_than_wide() -> None:
    assert is_vertical(np.zeros((100, 20)))
    assert not is_vertical(np.zeros((20, 100)))
    assert not is_vertical(np.zeros((30, 30)))


def test_prepare_crop_resizes_to_the_model_height() -> None:
    tall = np.zeros((80, 20), np.uint8)
    assert prepare_crop(tall, PreprocessConfig()).shape == (32, 16)


def test_to_grayscale_keeps_size() -> None:
    gray = to_grayscale(np.full((3, 5, 3), 200, np.uint8))
    assert gray.shape == (3, 5) and gray.dtype == np.uint8 and int(gray[0, 0]) == 200


# ---- batching ---------------------------------------------------------------------------


def test_to_tensor_pads_to_the_widest_crop_and_reports_widths() -> None:
    crops = [np.full((32, 16), 255, np.uint8), np.zeros((32, 40), np.uint8)]
    batch, widths = to_tensor(crops)
    assert batch.shape == (2, 1, 32, 40) and batch.dtype == torch.float32
    assert widths.tolist() == [16, 40]
    assert torch.all(batch[0, :, :, :16] == 1.0)
    assert torch.all(batch[0, :, :, 16:] == 0.0)  # zero padding
    assert torch.all(batch[1] == -1.0)


def test_to_tensor_refuses_an_empty_batch() -> None:
    with pytest.raises(ValueError):
        to_tensor([])


def test_width_sorted_batches_group_similar_widths_and_keep_every_index() -> None:
    widths = [40, 8, 100, 16, 64, 12, 200]
    batches = width_sorted_batches(widths, 3)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert sorted(i for b in batches for i in b) == list(range(len(widths)))
    flat = [widths[i] for b in batches for i in b]
    assert flat == sorted(widths)


def test_width_sorted_batches_refuses_a_zero_batch_size() -> None:
    with pytest.raises(ValueError):
        width_sorted_batches([1, 2], 0)


def test_read_only_crops_batch_without_a_warning() -> None:
    """Training batches come from a memory-mapped, read-only pool."""
    crop = np.full((32, 20), 255, np.uint8)
    crop.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch, widths = to_tensor([crop])
    assert widths.tolist() == [20] and float(batch.max()) == 1.0


def test_image_preparation_reads_a_wide_crop_once_and_a_tall_one_as_given_and_turned_both_ways() -> None:
    preparation = ImagePreparation(PreprocessConfig())
    wide = np.full((20, 80), 200, dtype=np.uint8)
    assert [c.shape for c in preparation.prepare(wide).crops] == [(32, 128)]
    tall = np.full((90, 20), 200, dtype=np.uint8)
    tall[:10] = 0  # dark at the top: the two turns put it at opposite ends
    given, left, right = preparation.prepare(tall).crops
    assert given.shape == (32, 16) and left.shape == right.shape == (32, 144)
    assert left[:, :20].mean() < 100 < left[:, -20:].mean()
    assert right[:, -20:].mean() < 100 < right[:, :20].mean()


def test_a_column_cap_puts_fewer_wide_crops_in_a_batch() -> None:
    widths = [512, 16, 16, 256, 16, 128, 128, 600]
    batches = width_sorted_batches(widths, batch_size=3, max_columns=512)
    assert [[widths[i] for i in b] for b in batches] == [[16, 16, 16], [128, 128], [256], [512], [600]]
    assert all(len(b) * max(widths[i] for i in b) <= 512 or len(b) == 1 for b in batches)


def test_crops_of_one_width_fill_batches_of_their_own_and_the_rest_are_pooled() -> None:
    """A batch without padding runs ONNX Runtime's faster graph."""
    widths = [40] * 7 + [44] * 2 + [48] * 3 + [52]
    batches = width_sorted_batches(widths, batch_size=3)
    assert [[widths[i] for i in b] for b in batches] == [
        [40, 40, 40], [40, 40, 40], [40, 44, 44], [48, 48, 48], [52],
    ]
    assert sorted(i for b in batches for i in b) == list(range(len(widths)))
