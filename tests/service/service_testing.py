"""Helpers for the service tests: settings, in-process clients, images, a real server on loopback.

A plain module rather than conftest.py so that test modules can import it.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from PIL import Image
from word_images import render_word

from ocr_lstm.recognition.explain import Explanation
from service.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]


def make_settings(model: Path, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {"model": str(model), "device": "cpu", "threads": 1, "max_wait_ms": 2.0}
    values.update(overrides)
    return ServiceSettings(_env_file=None, **values)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client with the app's lifespan (model loading) run around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client:
            yield client


def png_bytes(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def word_bytes(text: str = "hello", format: str = "PNG") -> bytes:
    return png_bytes(render_word(text), format)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``ocr-lstm serve`` on loopback, as a user would start it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCR_LSTM_")}
    environment.update({"OMP_WAIT_POLICY": "PASSIVE", "OCR_LSTM_THREADS": "1", "OCR_LSTM_DEVICE": "cpu"})
    environment.update(env or {})
    script = Path(sys.executable).parent / "ocr-lstm"
    program = [str(script)] if script.is_file() else [sys.executable, "-m", "ocr_lstm.cli"]
    command = [*program, "serve", "--host", "127.0.0.1", "--port", str(port), "--model", str(model)]
    return subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_until_ready(process: subprocess.Popen[bytes], base_url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server at {base_url} not ready after {timeout} s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def multipart(image: bytes) -> tuple[bytes, bytes]:
    boundary = b"xyzzy"
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="w.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + image + b"\r\n--" + boundary + b"--\r\n"
    )
    return body, b"multipart/form-data; boundary=" + boundary


def upload_scope(path: str, body: bytes, content_type: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The ASGI scope of a POST of ``body`` to ``path``, for tests that drive the app's ``receive`` themselves."""
    path, _, query = path.partition("?")
    raw = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(), "headers": raw,
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


class CachedWithoutLock:
    """``functools.cached_property`` as in Python 3.12+: Python 3.11's holds one lock for all
    instances, which would serialise the renders by itself and hide a missing limiter."""

    def __init__(self, function: Callable[[Explanation], bytes]) -> None:
        self.function = function

    def __get__(self, instance: Explanation | None, owner: type | None = None) -> object:
        if instance is None:
            return self
        value = instance.__dict__["png"] = self.function(instance)
        return value
