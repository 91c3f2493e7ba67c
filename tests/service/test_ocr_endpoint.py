"""``POST /v1/ocr``: whole photos in, pages of words with polygons out, on the tiny random
model and the real detector; the same checks on input as ``/v1/recognize``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree
from PIL import Image
from service_testing import png_bytes, word_bytes
from word_images import render_photo

from ocr_lstm.detection import DBDetector
from ocr_lstm.photo.pipeline import OCR, OCRConfig
from ocr_lstm.recognition.recognizer import Recognizer

pytestmark = pytest.mark.anyio

LINES = [("OPEN 24 HOURS", (60, 60), 56), ("NO PARKING", (300, 240), 40)]


@pytest.fixture(scope="module")
def photo() -> bytes:
    image, _ = render_photo(LINES)
    return png_bytes(Image.fromarray(image))


@pytest.fixture(scope="module")
def reference(tiny_model_path: Path) -> OCR:
    """The same pipeline outside the service."""
    keep_every_word = OCRConfig(min_confidence=0.0, short_word_confidence=0.0)  # as the test settings do
    return OCR(DBDetector(threads=1), Recognizer(tiny_model_path, device="cpu", threads=1), keep_every_word)


async def test_a_photo_comes_back_as_the_page_the_library_reads(
    client: httpx.AsyncClient, photo: bytes, reference: OCR
) -> None:
    response = await client.post("/v1/ocr", files={"file": ("sign.png", photo, "image/png")})
    assert response.status_code == 200
    body = response.json()
    expected = reference(photo).export()
    assert body["source"] == "sign.png"
    assert (body["width"], body["height"]) == (800, 500)
    assert len(body["blocks"]) == len(expected["blocks"]) == 2
    assert body["text"] == expected["text"]
    words = [w for b in body["blocks"] for ln in b["lines"] for w in ln["words"]]
    assert words and all(len(w["polygon"]) == 4 for w in words)
    assert body["model"] and body["elapsed_ms"] > 0


async def test_several_photos_come_back_in_order(client: httpx.AsyncClient, photo: bytes) -> None:
    blank = png_bytes(Image.new("RGB", (300, 200), "white"))
    response = await client.post("/v1/ocr", files=[("files", ("a.png", photo)), ("files", ("b.png", blank))])
    assert response.status_code == 200
    body = response.json()
    assert [p["source"] for p in body] == ["a.png", "b.png"]
    assert body[0]["blocks"] and body[1]["blocks"] == [] and body[1]["text"] == ""


async def test_concurrent_photos_share_recognition_batches(client: httpx.AsyncClient, photo: bytes) -> None:
    """While the model is busy, the lines of the photos in flight queue up (two at once: the
    photo limiter's floor); the next batch takes them together."""
    import asyncio
    import threading

    queue = client._transport.app.state.service.model_queue  # type: ignore[attr-defined]
    sizes: list[int] = []
    original = queue._on_call
    queue._on_call = lambda size: (sizes.append(size), original(size))
    release = threading.Event()
    busy = asyncio.ensure_future(queue.run_exclusive(lambda: release.wait(30)))
    try:
        requests = [asyncio.ensure_future(client.post("/v1/ocr", files={"file": (f"{i}.png", photo)}))
                    for i in range(4)]
        # Until two photos' two lines each wait for the model thread.
        for _ in range(400):
            if queue.queued >= 4:
                break
            await asyncio.sleep(0.05)
        release.set()
        responses = await asyncio.gather(*requests)
        await busy
    finally:
        release.set()
        queue._on_call = original
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    assert sizes[0] == 4  # the lines of two requests in one model call


async def test_hocr_is_returned_on_request(client: httpx.AsyncClient, photo: bytes) -> None:
    response = await client.post("/v1/ocr?format=hocr", files={"file": ("sign.png", photo)})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    tree = etree.fromstring(response.content)
    assert tree.xpath("//*[@class='ocrx_word']")


async def test_a_text_file_is_refused_with_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/ocr", files={"file": ("notes.txt", b"just some text", "text/plain")})
    assert response.status_code == 415
    assert "detail" in response.json()


async def test_a_truncated_photo_is_a_422_naming_its_index(client: httpx.AsyncClient, photo: bytes) -> None:
    response = await client.post("/v1/ocr", files=[("files", ("a.png", photo)), ("files", ("b.png", photo[:200]))])
    assert response.status_code == 422
    assert "files[1]" in response.json()["detail"]


async def test_no_file_and_both_fields_are_422(client: httpx.AsyncClient, photo: bytes) -> None:
    assert (await client.post("/v1/ocr")).status_code == 422
    both = await client.post("/v1/ocr", files=[("file", ("a.png", photo)), ("files", ("b.png", photo))])
    assert both.status_code == 422


async def test_recognize_still_reads_crops_beside_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/recognize", files={"file": ("w.png", word_bytes("hello"))})
    assert response.status_code == 200 and "text" in response.json()


def documented(value: object, schema: dict, components: dict, where: str = "page") -> None:
    """``value`` has every key the OpenAPI schema names at every level, and no other, of the types it says."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:  # X | None
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        if value is None:
            assert len(options) < len(schema["anyOf"]), f"{where} may not be null"
            return
        (schema,) = options
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict) and set(value) == set(schema["properties"]), (where, sorted(value))
        for key, item in value.items():
            documented(item, schema["properties"][key], components, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for n, item in enumerate(value):
            documented(item, schema["items"], components, f"{where}[{n}]")
    else:
        types = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
        assert isinstance(value, types[kind]), f"{where}: {value!r} is not {kind}"


async def test_the_answer_is_the_page_the_openapi_document_describes(
    client: httpx.AsyncClient, photo: bytes
) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    body = (await client.post("/v1/ocr", files={"file": ("sign.png", photo)})).json()
    assert body["blocks"] and body["blocks"][0]["lines"][0]["words"][0]["chars"]  # every level is checked
    documented(body, {"$ref": "#/components/schemas/PageOut"}, components)
    several = (await client.post("/v1/ocr", files=[("files", ("a.png", photo)), ("files", ("b.png", photo))])).json()
    documented(several, {"type": "array", "items": {"$ref": "#/components/schemas/PageOut"}}, components)


async def test_a_word_answer_is_the_reading_the_openapi_document_describes(client: httpx.AsyncClient) -> None:
    components = (await client.get("/openapi.json")).json()["components"]["schemas"]
    body = (await client.post("/v1/recognize", files={"file": ("w.png", word_bytes("hello"))})).json()
    documented(body, {"$ref": "#/components/schemas/RecognitionOut"}, components, "reading")


async def test_a_requests_confidence_floor_leaves_out_the_words_below_it(
    client: httpx.AsyncClient, photo: bytes
) -> None:
    def words(body: dict) -> list[dict]:
        return [w for b in body["blocks"] for ln in b["lines"] for w in ln["words"]]

    every = (await client.post("/v1/ocr?min_confidence=0", files={"file": ("a.png", photo)})).json()
    floor = sorted(w["confidence"] for w in words(every))[len(words(every)) // 2]
    kept = (await client.post(f"/v1/ocr?min_confidence={floor}", files={"file": ("a.png", photo)})).json()
    assert words(every) and 0 < len(words(kept)) < len(words(every))
    assert all(w["confidence"] >= floor and (len(w["text"]) > 2 or w["confidence"] >= 0.97) for w in words(kept))
    bad = await client.post("/v1/ocr?min_confidence=2", files={"file": ("a.png", photo)})
    assert bad.status_code == 422 and "detail" in bad.json()


async def test_an_8000_by_6000_phone_photo_is_read_with_the_default_limits(client: httpx.AsyncClient) -> None:
    """48 Mpx: decoded at most OCR_LSTM_PHOTO_READ_PIXELS large, counted so, answered in its own pixels."""
    from PIL import ImageDraw, ImageFont

    big = Image.new("RGB", (8000, 6000), (200, 200, 190))
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    font = ImageFont.truetype(str(dejavu), 600) if dejavu.is_file() else ImageFont.load_default(600)
    ImageDraw.Draw(big).text((1200, 2400), "OPEN DAILY", font=font, fill=(20, 20, 20))
    response = await client.post("/v1/ocr", files={"file": ("phone.jpg", png_bytes(big, "JPEG"))})
    assert response.status_code == 200, response.text
    page = response.json()
    assert (page["width"], page["height"]) == (8000, 6000)
    lines = [line for block in page["blocks"] for line in block["lines"]]
    xs = [x for line in lines for x, _ in line["polygon"]]
    ys = [y for line in lines for _, y in line["polygon"]]
    assert lines and min(xs) > 1000 and max(xs) < 7900 and min(ys) > 2200 and max(ys) < 3400


async def test_a_photo_past_the_pixel_limit_is_a_413_naming_the_setting(tiny_model_path: Path) -> None:
    from service_testing import make_settings, serving

    from service.app import create_app

    settings = make_settings(tiny_model_path, max_pixels=10_000, photo_read_pixels=5_000, max_request_pixels=10_000,
                             max_pending_photo_pixels=10_000)
    async with serving(create_app(settings)) as client:
        response = await client.post("/v1/ocr", files={"file": ("big.png", png_bytes(Image.new("RGB", (200, 100))))})
    assert response.status_code == 413 and "OCR_LSTM_MAX_PIXELS" in response.json()["detail"]


async def test_an_uploads_header_is_read_once(
    client: httpx.AsyncClient, photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header that admitted the photo opened it; decoding reads on from there."""
    opened: list[object] = []
    real_open = Image.open

    def counted(*args: object, **kwargs: object) -> Image.Image:
        opened.append(args[0])
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "open", counted)
    assert (await client.post("/v1/ocr", files={"file": ("sign.png", photo)})).status_code == 200
    assert (await client.post("/v1/recognize", files={"file": ("w.png", word_bytes("hi"))})).status_code == 200
    assert len(opened) == 2
