"""A client that disconnects or times out leaves no work behind."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from service_testing import make_settings, multipart, serving, word_bytes

from service.app import create_app
from service.state import ServiceState

pytestmark = pytest.mark.anyio


def metric(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.split()[-1])


async def test_disconnected_client_work_is_skipped(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path))
    state: ServiceState = app.state.service
    body, content_type = multipart(word_bytes())
    gone = asyncio.Event()
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/recognize",
        "raw_path": b"/v1/recognize",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    async with serving(app) as client:
        assert state.model_queue is not None
        release = threading.Event()
        blocker = asyncio.ensure_future(state.model_queue.run_exclusive(release.wait))  # the model is busy
        request = asyncio.ensure_future(app(scope, receive, send))
        await asyncio.sleep(0.5)  # the image is decoded and queued behind the busy model
        gone.set()  # the client goes away
        await asyncio.wait_for(request, 5)
        release.set()
        await blocker
        await asyncio.sleep(0.1)
        metrics = (await client.get("/metrics")).text
    assert sent[0]["status"] == 499
    assert metric(metrics, "ocr_lstm_skipped_items_total") == 1
    assert metric(metrics, "ocr_lstm_batch_size_count") == 0  # the model never ran for it
    assert 'ocr_lstm_errors_total{kind="disconnected"} 1.0' in metrics


async def test_request_over_the_timeout_gets_504_and_its_work_is_skipped(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path, request_timeout_s=0.3))
    state: ServiceState = app.state.service
    async with serving(app) as client:
        assert state.model_queue is not None
        release = threading.Event()
        blocker = asyncio.ensure_future(state.model_queue.run_exclusive(release.wait))
        try:
            response = await client.post("/v1/recognize", files={"file": ("w.png", word_bytes())})
        finally:
            release.set()
            await blocker
        await asyncio.sleep(0.1)
        after = await client.post("/v1/recognize", files={"file": ("w.png", word_bytes())})
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 504 and "0.3 s" in response.json()["detail"]
    assert after.status_code == 200  # the service is fine afterwards
    assert metric(metrics, "ocr_lstm_skipped_items_total") == 1
    assert metric(metrics, "ocr_lstm_batch_size_count") == 1  # only the second request ran
