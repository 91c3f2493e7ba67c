"""Bad input of every kind gets a 4xx with a JSON detail, never a 500, and never hurts other requests."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from service_testing import make_settings, png_bytes, serving, word_bytes

from ocr_lstm.recognition.recognizer import Recognizer
from service.app import create_app

pytestmark = pytest.mark.anyio


def png_with_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height``, with almost no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def corrupt_pixels() -> bytes:
    """A valid PNG header with scrambled compressed pixel data."""
    data = bytearray(
        png_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 120, 3), np.uint8)))
    )
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    return bytes(data)


def encoded(format: str, mode: str = "RGB", size: tuple[int, int] = (60, 20)) -> bytes:
    return png_bytes(Image.new(mode, size), format)


BAD_UPLOADS: dict[str, tuple[Callable[[], bytes], int, str]] = {
    # name: (content, expected status, words expected in the detail)
    "text file": (lambda: b"hello, I am not an image", 415, "not a supported image"),
    "pdf": (lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", 415, "not a supported image"),
    "svg": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        415,
        "not a supported",
    ),
    "postscript (never reaches ghostscript)": (
        lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
        415,
        "not a supported",
    ),
    "ppm (readable by PIL, not accepted)": (lambda: encoded("PPM"), 415, "not a supported"),
    "ico (readable by PIL, not accepted)": (lambda: encoded("ICO", size=(16, 16)), 415, "not a supported"),
    "empty": (lambda: b"", 422, "empty"),
    "png signature only": (lambda: b"\x89PNG\r\n\x1a\n", 422, "malformed PNG"),
    "truncated png": (lambda: word_bytes()[:150], 422, ""),
    "truncated jpeg": (lambda: word_bytes(format="JPEG")[:300], 422, ""),
    "corrupt pixel data": (corrupt_pixels, 422, ""),
    "zero width png": (lambda: png_with_header(0, 32), 422, "zero width or height"),
    "zero height png": (lambda: png_with_header(32, 0), 422, "zero width or height"),
    "decompression bomb (10 gigapixels)": (lambda: png_with_header(100_000, 100_000), 413, "too large"),
    "over the pixel limit (36 megapixels)": (lambda: png_with_header(6000, 6000), 413, "more than the limit"),
    "absurdly wide": (lambda: png_with_header(20_000, 2), 422, "elongated"),
    "absurdly tall": (lambda: png_with_header(3, 5_000), 422, "elongated"),
}


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
async def test_bad_image_gets_a_4xx_with_a_json_detail(client: httpx.AsyncClient, name: str) -> None:
    make, status, words = BAD_UPLOADS[name]
    response = await client.post("/v1/recognize", files={"file": ("image.png", make(), "image/png")})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert words.lower() in response.json()["detail"].lower()


@pytest.mark.parametrize(
    "image",
    [
        Image.new("1", (40, 20)),
        Image.new("L", (1, 1), 255),
        Image.new("P", (40, 20)),
        Image.new("RGBA", (40, 20), (0, 0, 0, 0)),
        Image.new("I;16", (40, 20), 40000),
        Image.new("RGB", (40, 100), "white"),  # tall: read turned both ways
    ],
    ids=["bilevel", "one-pixel", "palette", "transparent", "16-bit", "vertical"],
)
async def test_odd_but_valid_images_are_read(client: httpx.AsyncClient, image: Image.Image) -> None:
    response = await client.post("/v1/recognize", files={"file": ("x", png_bytes(image))})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("format", ["JPEG", "GIF", "BMP", "TIFF", "WEBP"])
async def test_every_accepted_format_is_read(client: httpx.AsyncClient, format: str) -> None:
    response = await client.post("/v1/recognize", files={"file": ("x.png", word_bytes(format=format))})
    assert response.status_code == 200, response.text


async def test_word_images_have_a_crop_sized_pixel_limit_and_photos_a_photo_sized_one(tiny_model_path: Path) -> None:
    settings = make_settings(tiny_model_path, max_crop_pixels=1000, max_pixels=3000)

    def gray(width: int, height: int) -> dict[str, tuple[str, bytes]]:
        return {"file": ("g.png", png_bytes(Image.new("L", (width, height))))}

    async with serving(create_app(settings)) as client:
        small_word = await client.post("/v1/recognize", files=gray(40, 20))
        large_word = await client.post("/v1/recognize", files=gray(50, 50))
        large_word_explained = await client.post("/v1/explain", files=gray(50, 50))
        photo = await client.post("/v1/ocr", files=gray(50, 50))
        large_photo = await client.post("/v1/ocr", files=gray(60, 60))
    assert small_word.status_code == 200 and photo.status_code == 200
    for refused, pixels in ((large_word, 2500), (large_word_explained, 2500), (large_photo, 3600)):
        assert refused.status_code == 413 and f"{pixels} pixels" in refused.json()["detail"]


async def test_the_images_of_one_request_together_have_a_pixel_limit(tiny_model_path: Path) -> None:
    settings = make_settings(tiny_model_path, max_request_pixels=1500, max_pending_pixels=1500)
    one = ("files", ("g.png", png_bytes(Image.new("L", (40, 20)))))
    async with serving(create_app(settings)) as client:
        alone = await client.post("/v1/recognize", files=[one])
        together = await client.post("/v1/recognize", files=[one, one])
        metrics = (await client.get("/metrics")).text
    assert alone.status_code == 200
    assert together.status_code == 413
    assert together.json()["detail"] == "the images have 1600 pixels together, more than the limit of 1500"
    assert 'ocr_lstm_errors_total{kind="too_many_pixels"} 1.0' in metrics


async def test_missing_file_field_is_a_422(client: httpx.AsyncClient) -> None:
    nothing = await client.post("/v1/recognize")
    wrong_name = await client.post("/v1/recognize", files={"image": ("w.png", word_bytes())})
    not_a_file = await client.post("/v1/recognize", data={"file": "just text"})
    for response in (nothing, wrong_name, not_a_file):
        assert response.status_code == 422, response.text
        assert "detail" in response.json()


async def test_too_many_files_is_a_413(tiny_model_path: Path) -> None:
    async with serving(create_app(make_settings(tiny_model_path, max_files=2))) as client:
        two = await client.post(
            "/v1/recognize", files=[("files", (f"{i}.png", word_bytes())) for i in range(2)]
        )
        three = await client.post(
            "/v1/recognize", files=[("files", (f"{i}.png", word_bytes())) for i in range(3)]
        )
    assert two.status_code == 200
    assert three.status_code == 413 and "limit of 2" in three.json()["detail"]


async def test_oversized_body_is_refused_from_its_content_length(tiny_model_path: Path) -> None:
    async with serving(create_app(make_settings(tiny_model_path, max_upload_bytes=20_000))) as client:
        response = await client.post("/v1/recognize", files={"file": ("big.png", bytes(50_000))})
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 413
    assert "limit of 20000 bytes" in response.json()["detail"]
    assert 'ocr_lstm_errors_total{kind="too_large"} 1.0' in metrics


async def test_oversized_body_without_content_length_is_refused_while_streaming(
    tiny_model_path: Path,
) -> None:
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + bytes(50_000)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    async with serving(create_app(make_settings(tiny_model_path, max_upload_bytes=20_000))) as client:
        response = await client.post(
            "/v1/recognize",
            content=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 413
    assert "limit of 20000 bytes" in response.json()["detail"]
    assert 'ocr_lstm_errors_total{kind="too_large"} 1.0' in metrics


async def test_one_bad_file_among_several_is_named(client: httpx.AsyncClient) -> None:
    files = [
        ("files", ("a.png", word_bytes())),
        ("files", ("b.png", b"junk")),
        ("files", ("c.png", word_bytes())),
    ]
    response = await client.post("/v1/recognize", files=files)
    assert response.status_code == 415
    assert response.json()["detail"].startswith("files[1]:")


async def test_a_bad_request_does_not_break_concurrent_good_ones(tiny_model_path: Path) -> None:
    # A long wait gathers everything that arrives together into one batch.
    settings = make_settings(tiny_model_path, max_batch_size=32, max_wait_ms=100)
    # Good images of different widths (so the batch reorders and pads them) that each read
    # differently, alone: a reading handed to the wrong request would show.
    goods = [word_bytes(word) for word in ("longer words", "fine", "a", "window", "x1")]
    reference = Recognizer(tiny_model_path, device="cpu", threads=1)
    expected = [reference.recognize(good)[0].text for good in goods]
    assert len(set(expected)) == len(goods)
    bad = BAD_UPLOADS["truncated png"][0]()
    payloads = [goods[0], bad, goods[1], b"", goods[2], png_with_header(100_000, 100_000), goods[3], goods[4]]
    async with serving(create_app(settings)) as client:
        responses = await asyncio.gather(
            *(client.post("/v1/recognize", files={"file": (f"{i}.png", p)}) for i, p in enumerate(payloads))
        )
        metrics = (await client.get("/metrics")).text
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 422, 200, 422, 200, 413, 200, 200]
    assert [r.json()["text"] for r, s in zip(responses, statuses) if s == 200] == expected
    # The five good images were read together: one model call, of five crops.
    assert "ocr_lstm_batch_size_count 1.0" in metrics
    assert "ocr_lstm_batch_size_sum 5.0" in metrics


async def test_bad_query_parameter_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/explain", params={"format": "gif"}, files={"file": ("w.png", word_bytes())}
    )
    assert response.status_code == 422


async def test_wrong_method_and_path_are_json_4xx(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/recognize")).status_code == 405
    missing = await client.get("/nowhere")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}


async def test_unreadable_image_for_explain_is_a_4xx(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/explain", files={"file": ("w.png", word_bytes()[:150])})
    assert response.status_code == 422


async def test_file_and_files_together_are_a_422(client: httpx.AsyncClient) -> None:
    """Else the list would start with `file` and files[i] in error details would be off by one."""
    both = [
        ("file", ("one.png", word_bytes())),
        ("files", ("a.png", word_bytes())),
        ("files", ("b.png", b"junk")),
    ]
    response = await client.post("/v1/recognize", files=both)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "send one image as 'file' or several as 'files', not both"}
    assert 'ocr_lstm_errors_total{kind="file_and_files"} 1.0' in (await client.get("/metrics")).text


@pytest.mark.parametrize(
    "content, content_type, words",
    [
        (b"--x\r\n", "multipart/form-data", "boundary"),
        (b"&".join(b"f%d=v" % i for i in range(1001)), "application/x-www-form-urlencoded", "Too many fields"),
    ],
    ids=["missing boundary", "too many fields"],
)
async def test_an_unreadable_multipart_body_is_a_json_400_and_in_the_schema(
    client: httpx.AsyncClient, content: bytes, content_type: str, words: str
) -> None:
    response = await client.post("/v1/recognize", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["detail"]
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/v1/recognize", "/v1/ocr", "/v1/explain"):
        assert "multipart" in paths[path]["post"]["responses"]["400"]["description"]


async def test_a_422_does_not_echo_a_large_value_back(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/recognize", data={"file": "x" * 500_000})
    assert response.status_code == 422
    assert len(response.content) < 1000
    (error,) = response.json()["detail"]
    assert error["input"] == "x" * 100 + "... (500000 characters)"
