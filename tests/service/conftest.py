"""Fixtures for the service: settings on the tiny random model, in-process clients, a real server.

Async tests run on anyio's pytest plugin (asyncio backend). In-process clients
run the application's lifespan, so the model is loaded as in production.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from service_testing import free_port, make_settings, serving, start_server, stop_server, wait_until_ready

from service.app import create_app
from service.settings import ServiceSettings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_service_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own OCR_LSTM_* variables must not leak into the tests' settings."""
    for name in list(os.environ):
        if name.startswith("OCR_LSTM_"):
            monkeypatch.delenv(name)


# The tiny random model reads with little confidence: its photo pages keep every word.
KEEP_EVERY_WORD = {"min_confidence": 0.0}


@pytest.fixture
def settings(tiny_model_path: Path) -> ServiceSettings:
    return make_settings(tiny_model_path, **KEEP_EVERY_WORD)


@pytest.fixture
async def client(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def live_server(tiny_model_path: Path) -> Iterator[str]:
    """A real ``ocr-lstm serve`` process on a free loopback port; yields its base URL."""
    port = free_port()
    process = start_server(tiny_model_path, port, {"OCR_LSTM_MIN_CONFIDENCE": "0"})
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, base_url)
        yield base_url
    finally:
        stop_server(process)
