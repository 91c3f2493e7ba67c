"""Uploads whose bodies stall hold nothing but their own connection: the key is checked from the headers
before a byte of the body is read, and a body still arriving holds no room in the queue nor an explain
slot; it must keep a minimum rate or get 408. Every wait is bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from service_testing import make_settings, multipart, serving, upload_scope, word_bytes

from service.app import create_app
from service.state import ServiceState

pytestmark = pytest.mark.anyio

KEY = "s3cret"
KEYED = {"X-API-Key": KEY}
STALLED = 60  # far past the queue's room (max_pending=16 below)


def one_word() -> dict[str, tuple[str, bytes]]:
    return {"file": ("w.png", word_bytes())}


class Stalled:
    """A request driven through the app's ASGI interface that sends its headers and a few body bytes, then
    nothing: what an attacker's connection looks like once uvicorn has parsed its headers."""

    def __init__(self, path: str, headers: dict[str, str] | None = None) -> None:
        body, content_type = multipart(word_bytes())
        self.scope = upload_scope(path, body, content_type, headers)
        self.first_bytes = body[:10]
        self.reads = 0
        self.sent: list[dict[str, Any]] = []
        self.never = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        self.reads += 1
        if self.reads == 1:
            return {"type": "http.request", "body": self.first_bytes, "more_body": True}
        await self.never.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        return self.sent[0]["status"] if self.sent else None


@asynccontextmanager
async def stalling(app: FastAPI, make: Callable[[], Stalled], count: int) -> AsyncIterator[list[Stalled]]:
    """``count`` stalled requests in flight on ``app`` (whose lifespan runs) until the block ends."""
    uploads = [make() for _ in range(count)]
    tasks = [asyncio.ensure_future(app(u.scope, u.receive, u.send)) for u in uploads]
    await asyncio.sleep(0.2)  # let each reach its door
    try:
        yield uploads
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_request_without_the_key_is_refused_before_its_body_is_read(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path, api_key=KEY))
    async with serving(app), stalling(app, lambda: Stalled("/v1/recognize", {"X-API-Key": "guess"}), 1) as (upload,):
        pass
    assert upload.reads == 0
    assert upload.status == 401
    headers = dict(upload.sent[0]["headers"])
    assert headers[b"www-authenticate"] == b"ApiKey" and headers[b"connection"] == b"close"


async def test_stalled_uploads_without_the_key_leave_a_keyed_client_its_answers(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path, api_key=KEY, max_pending=16, max_files=4))
    state: ServiceState = app.state.service
    async with serving(app) as client, stalling(app, lambda: Stalled("/v1/recognize"), STALLED) as uploads:
        statuses = [
            (await asyncio.wait_for(client.post("/v1/recognize", files=one_word(), headers=KEYED), 20)).status_code
            for _ in range(20)
        ]
        held = state.admission.images.used
    assert {u.status for u in uploads} == {401}
    assert statuses.count(200) >= 19, statuses
    assert held == 0


async def test_bodies_still_arriving_hold_no_room_in_the_queue(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path, max_pending=16, max_files=4))
    state: ServiceState = app.state.service
    async with serving(app) as client, stalling(app, lambda: Stalled("/v1/recognize"), STALLED):
        held = state.admission.images.used
        statuses = [
            (await asyncio.wait_for(client.post("/v1/recognize", files=one_word()), 20)).status_code
            for _ in range(20)
        ]
    assert held == 0
    assert statuses == [200] * 20


async def test_explain_uploads_still_arriving_take_no_explain_slot(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path, max_explains=2))
    async with serving(app) as client, stalling(app, lambda: Stalled("/v1/explain?format=json"), 4):
        response = await asyncio.wait_for(client.post("/v1/explain?format=json", files=one_word()), 30)
    assert response.status_code == 200, response.text


async def test_a_body_slower_than_the_minimum_rate_gets_408_long_before_the_body_timeout(
    tiny_model_path: Path,
) -> None:
    settings = make_settings(tiny_model_path, min_body_rate=1000, body_grace_s=0.3, body_timeout_s=30)
    app = create_app(settings)
    async with serving(app):
        started = time.monotonic()
        async with stalling(app, lambda: Stalled("/v1/recognize"), 1) as (upload,):
            while upload.status is None and time.monotonic() - started < 10:
                await asyncio.sleep(0.05)
    assert upload.status == 408
    assert time.monotonic() - started < 10
    assert b"1000 bytes/s" in upload.sent[1]["body"]
