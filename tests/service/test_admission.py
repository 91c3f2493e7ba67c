"""Admission by the work an upload costs: decided at the door before the body is read, then by pixels;
explain bounded on its own; photos' decoding kept off the word images' threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from service_testing import CachedWithoutLock, make_settings, multipart, png_bytes, serving, until, word_bytes

import service.routes.recognition as recognition_module
from ocr_lstm.preprocessing import DecodedPhoto
from ocr_lstm.recognition.explain import Explanation
from service.app import create_app
from service.state import ServiceState

pytestmark = pytest.mark.anyio


def gray(width: int, height: int) -> dict[str, tuple[str, bytes]]:
    return {"file": ("g.png", png_bytes(Image.new("L", (width, height), 255)))}


@pytest.fixture
def model_free() -> Iterator[threading.Event]:
    """Set it to let the model thread go on; tests hold that thread so that admitted work stays pending."""
    event = threading.Event()
    yield event
    event.set()


async def test_a_request_past_a_full_queue_is_refused_before_its_body_is_read(
    tiny_model_path: Path, model_free: threading.Event
) -> None:
    app = create_app(make_settings(tiny_model_path, max_pending=2, max_files=2))
    state: ServiceState = app.state.service
    body, content_type = multipart(word_bytes())
    reads: list[str] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        reads.append("read")
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v1/recognize", "raw_path": b"/v1/recognize", "root_path": "", "query_string": b"",
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }
    async with serving(app) as client:
        assert state.model_queue is not None
        hold = asyncio.ensure_future(state.model_queue.run_exclusive(model_free.wait))
        pending = asyncio.ensure_future(client.post("/v1/recognize", files=[("files", ("a.png", word_bytes()))] * 2))
        await until(lambda: state.admission.images.used == 2)
        await app(scope, receive, send)
        model_free.set()
        await hold
        assert (await pending).status_code == 200
    assert reads == []
    start = sent[0]
    headers = dict(start["headers"])
    assert start["status"] == 503
    assert headers[b"retry-after"] == b"1" and headers[b"connection"] == b"close"
    assert headers[b"content-type"] == b"application/json"
    assert sent[1]["body"].startswith(b'{"detail": "overloaded: 2 images')


async def test_pixels_in_flight_are_bounded_beside_the_image_count(
    tiny_model_path: Path, model_free: threading.Event
) -> None:
    """A request whose pixels would pass the budget is refused though there is room for its image."""
    settings = make_settings(tiny_model_path, max_pending_pixels=10_000, max_request_pixels=10_000)
    app = create_app(settings)
    state: ServiceState = app.state.service
    async with serving(app) as client:
        assert state.model_queue is not None
        hold = asyncio.ensure_future(state.model_queue.run_exclusive(model_free.wait))
        heavy = asyncio.ensure_future(client.post("/v1/recognize", files=gray(100, 60)))  # 6,000 pixels
        await until(lambda: state.admission.pixels.used == 6000)
        second_heavy = await client.post("/v1/recognize", files=gray(100, 60))
        light = asyncio.ensure_future(client.post("/v1/recognize", files=gray(40, 20)))  # 800 pixels
        await until(lambda: state.admission.pixels.used == 6800)
        model_free.set()
        await hold
        answered = [(await heavy).status_code, (await light).status_code]
    assert second_heavy.status_code == 503 and second_heavy.headers["retry-after"] == "1"
    assert "6000 pixels of word images are waiting" in second_heavy.json()["detail"]
    assert answered == [200, 200]
    assert state.admission.images.used == state.admission.pixels.used == 0


async def test_explain_past_its_own_limit_gets_503_while_recognition_goes_on(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawing, release = threading.Event(), threading.Event()

    def slow_render(self: Explanation) -> bytes:
        drawing.set()
        release.wait(30)
        return b"\x89PNG\r\n\x1a\n"

    monkeypatch.setattr(Explanation, "png", CachedWithoutLock(slow_render))
    app = create_app(make_settings(tiny_model_path, max_explains=1))
    try:
        async with serving(app) as client:
            first = asyncio.ensure_future(client.post("/v1/explain", files={"file": ("w.png", word_bytes())}))
            await until(drawing.is_set)
            second = await client.post("/v1/explain", files={"file": ("w.png", word_bytes())})
            recognized = await client.post("/v1/recognize", files={"file": ("w.png", word_bytes())})
            release.set()
            assert (await first).status_code == 200
            metrics = (await client.get("/metrics")).text
    finally:
        release.set()
    assert second.status_code == 503 and second.headers["retry-after"] == "1"
    assert second.json()["detail"].startswith("busy: 1 explain requests are running")
    assert second.headers["connection"] == "close"  # refused before its body was read
    assert recognized.status_code == 200
    assert 'ocr_lstm_errors_total{kind="busy"} 1.0' in metrics


async def test_photos_being_decoded_do_not_hold_up_word_images(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo takes up to a second to decode: it must not take the threads that word images decode on."""
    state: ServiceState = client._transport.app.state.service  # type: ignore[attr-defined]
    decoding, release = threading.Semaphore(0), threading.Event()

    def slow_decode(image: object, limits: object) -> DecodedPhoto:
        decoding.release()
        release.wait(30)
        return DecodedPhoto(np.full((64, 64, 3), 255, np.uint8), 64, 64)

    monkeypatch.setattr(recognition_module, "decode_photo_upload", slow_decode)
    photos = int(state.decode_limiter.total_tokens)  # enough to take every word-decoding thread
    try:
        requests = [asyncio.ensure_future(client.post("/v1/ocr", files=gray(64, 64))) for _ in range(photos)]
        for _ in range(photos):
            assert await asyncio.to_thread(decoding.acquire, True, 30)
        word = await asyncio.wait_for(client.post("/v1/recognize", files={"file": ("w.png", word_bytes())}), 20)
    finally:
        release.set()
    assert word.status_code == 200
    assert [response.status_code for response in await asyncio.gather(*requests)] == [200] * photos
