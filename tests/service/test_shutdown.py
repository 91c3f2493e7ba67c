"""SIGTERM on a real ``ocr-lstm serve``: readiness turns 503, the request in flight gets its answer, then
the process exits. Every wait is bounded."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from service_testing import free_port, multipart, start_server, stop_server, wait_until_ready, word_bytes

pytestmark = pytest.mark.slow

DRAIN_S = 3
PATIENCE_S = 20


def readiness_during_drain(base_url: str) -> tuple[int, int]:
    """The status of /readyz once it is no longer 200, with that of /healthz beside it."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        ready = httpx.get(f"{base_url}/readyz", timeout=5)
        if ready.status_code != 200:
            return ready.status_code, httpx.get(f"{base_url}/healthz", timeout=5).status_code
        time.sleep(0.05)
    raise AssertionError("/readyz still says ready")


def test_on_sigterm_readiness_turns_503_the_request_in_flight_is_answered_then_the_server_exits(
    tiny_model_path: Path,
) -> None:
    port = free_port()
    process = start_server(tiny_model_path, port, env={"OCR_LSTM_DRAIN_S": str(DRAIN_S)})
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, base_url)
        body, content_type = multipart(word_bytes())
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE_S) as sock:
            # A slow upload: its headers and half its body are in when the signal comes.
            sock.sendall(
                b"POST /v1/recognize HTTP/1.1\r\nHost: test\r\nContent-Type: " + content_type
                + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body[: len(body) // 2]
            )
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            ready, alive = readiness_during_drain(base_url)
            sock.sendall(body[len(body) // 2 :])
            response = b""
            while chunk := sock.recv(65536):
                response += chunk
        exit_code = process.wait(timeout=PATIENCE_S)
    finally:
        if process.poll() is None:
            stop_server(process)
    head, _, answer = response.partition(b"\r\n\r\n")
    assert (ready, alive) == (503, 200)
    assert head.startswith(b"HTTP/1.1 200") and b'"text"' in answer
    assert b"connection: close" in head.lower()
    assert exit_code == 0  # a clean drain is a success (uvicorn would re-raise the signal: status 143)
