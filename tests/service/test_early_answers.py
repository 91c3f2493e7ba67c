"""Answers sent before the body is read (401 from the headers, the 503s of the door and of the connection cap, the
413 of a declared length) reach ``httpx.AsyncClient``, which writes the whole body before it reads: the server
lets the client finish sending instead of closing on it. A real ``ocr-lstm serve`` on loopback; every wait is
bounded."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_testing import free_port, start_server, stop_server, wait_until_ready, word_bytes

pytestmark = pytest.mark.slow

KEY = "s3cret"
MAX_CONNECTIONS = 4
MAX_UPLOAD_BYTES = 4_000_000
PATIENCE_S = 20


@pytest.fixture(scope="module")
def base_url(tiny_model_path: Path) -> Iterator[str]:
    port = free_port()
    process = start_server(
        tiny_model_path,
        port,
        env={
            "OCR_LSTM_API_KEY": KEY,
            "OCR_LSTM_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            "OCR_LSTM_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        },
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, url)
        yield url
    finally:
        stop_server(process)


def post(url: str, body: bytes, tries: int = 1, key: str | None = None) -> list[httpx.Response | str]:
    """``tries`` uploads of ``body`` from one ``httpx.AsyncClient``: each answer, or the transport error's name."""

    async def send_all() -> list[httpx.Response | str]:
        answers: list[httpx.Response | str] = []
        headers = {"X-API-Key": key} if key else {}
        async with httpx.AsyncClient(timeout=PATIENCE_S) as client:
            for _ in range(tries):
                try:
                    answers.append(
                        await client.post(f"{url}/v1/recognize", files={"file": ("w.png", body)}, headers=headers)
                    )
                except httpx.TransportError as exc:
                    answers.append(type(exc).__name__)
        return answers

    return asyncio.run(send_all())


def statuses(answers: list[httpx.Response | str]) -> list[int | str]:
    return [a.status_code if isinstance(a, httpx.Response) else a for a in answers]


@pytest.mark.parametrize("size", [3_000, 2_000_000])
def test_an_async_client_reads_the_401_sent_before_its_body(base_url: str, size: int) -> None:
    body = word_bytes() + bytes(size)
    answers = post(base_url, body, tries=5)
    assert statuses(answers) == [401] * 5
    assert all(isinstance(a, httpx.Response) and a.headers["www-authenticate"] == "ApiKey" for a in answers)


def test_an_async_client_reads_the_413_of_a_declared_length(base_url: str) -> None:
    answers = post(base_url, bytes(MAX_UPLOAD_BYTES + 1_000_000), tries=3, key=KEY)
    assert statuses(answers) == [413] * 3


def test_an_async_client_reads_the_503_of_the_connection_cap_with_retry_after(base_url: str) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            stack.enter_context(socket.create_connection(("127.0.0.1", int(base_url.rsplit(":", 1)[1]))))
        answers = post(base_url, word_bytes() + bytes(500_000), tries=3, key=KEY)
    assert statuses(answers) == [503] * 3
    assert all(isinstance(a, httpx.Response) and a.headers["retry-after"] == "1" for a in answers)


def test_the_connection_still_serves_a_keyed_client_after_the_refusals(base_url: str) -> None:
    assert statuses(post(base_url, word_bytes(), tries=2, key=KEY)) == [200, 200]
