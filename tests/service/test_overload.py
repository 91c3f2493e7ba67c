"""Under load: a bounded queue that answers 503 instead of growing, and one explain picture at a time."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import pytest
from service_testing import CachedWithoutLock, make_settings, serving, until, word_bytes

from ocr_lstm.recognition.explain import Explanation, explain_prepared
from service.app import create_app
from service.routes import recognition as recognition_module

pytestmark = pytest.mark.anyio


def one_image() -> dict[str, tuple[str, bytes]]:
    return {"file": ("w.png", word_bytes())}


async def test_requests_past_max_pending_get_503_with_retry_after_and_the_rest_are_served(
    tiny_model_path: Path,
) -> None:
    app = create_app(make_settings(tiny_model_path, max_pending=3, max_files=2))
    state = app.state.service
    model_free = threading.Event()
    async with serving(app) as client:
        # Hold the model thread so that admitted images stay pending.
        hold = asyncio.ensure_future(state.model_queue.run_exclusive(model_free.wait))
        try:
            admitted = [
                asyncio.ensure_future(client.post("/v1/recognize", files=one_image())) for _ in range(2)
            ]
            await until(lambda: state.admission.images.used == 2)
            two_more = await client.post("/v1/recognize", files=[("files", ("a.png", word_bytes()))] * 2)
            one_more = asyncio.ensure_future(client.post("/v1/recognize", files=one_image()))
            await until(lambda: state.admission.images.used == 3)
            full = await client.post("/v1/recognize", files=one_image())
            explain_full = await client.post("/v1/explain", files=one_image())
            model_while_full = await client.get("/v1/model")
        finally:
            model_free.set()
        await hold
        answered = await asyncio.gather(*admitted, one_more)
        after = await client.post("/v1/recognize", files=one_image())
        metrics = (await client.get("/metrics")).text
    for refused in (two_more, full, explain_full):
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["detail"].startswith("overloaded:")
    assert model_while_full.status_code == 200
    assert [response.status_code for response in answered] == [200, 200, 200]
    assert after.status_code == 200 and state.admission.images.used == 0
    assert 'ocr_lstm_errors_total{kind="overloaded"} 3.0' in metrics


async def test_refused_and_failed_requests_give_their_room_back(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path, max_pending=2, max_files=2))
    async with serving(app) as client:
        bad = await client.post("/v1/recognize", files={"file": ("w.png", b"junk")})
        good = await client.post("/v1/recognize", files=[("files", ("a.png", word_bytes()))] * 2)
    assert bad.status_code == 415 and good.status_code == 200
    assert app.state.service.admission.images.used == 0


async def test_explain_pictures_are_drawn_one_at_a_time(tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each takes about 1 s of CPU: several at once would take the cores recognition needs."""
    requests = 3
    forwards_done = threading.Semaphore(0)
    drawing, most, started = 0, 0, 0
    lock = threading.Lock()

    def counted_forward(*args: object, **kwargs: object) -> Explanation:
        explanation = explain_prepared(*args, **kwargs)
        forwards_done.release()
        return explanation

    def render(self: Explanation) -> bytes:
        nonlocal drawing, most, started
        with lock:
            drawing += 1
            most = max(most, drawing)
            first = started == 0
            started += 1
        if first:
            # Wait for every forward pass: a render not held back by then overlaps this one.
            for _ in range(requests):
                forwards_done.acquire(timeout=10)
        with lock:
            drawing -= 1
        return b"\x89PNG\r\n\x1a\n"

    monkeypatch.setattr(recognition_module, "explain_prepared", counted_forward)
    monkeypatch.setattr(Explanation, "png", CachedWithoutLock(render))
    async with serving(create_app(make_settings(tiny_model_path, max_explains=requests))) as client:
        responses = await asyncio.gather(*(client.post("/v1/explain", files=one_image()) for _ in range(requests)))
    assert [response.status_code for response in responses] == [200] * requests
    assert most == 1


async def test_the_schema_lists_503_for_the_model_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/v1/recognize", "/v1/explain"):
        busy = paths[path]["post"]["responses"]["503"]
        assert "OCR_LSTM_MAX_PENDING" in busy["description"] and "Retry-After" in busy["headers"]
    assert "503" in paths["/v1/model"]["get"]["responses"]
