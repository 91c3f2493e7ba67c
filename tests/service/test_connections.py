"""Slow and excess clients on a real ``ocr-lstm serve`` (loopback), seen through raw sockets: every
wait below is bounded, and each connection is one the test opened itself."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_testing import free_port, start_server, stop_server, wait_until_ready

pytestmark = pytest.mark.slow

HEADER_TIMEOUT_S = 2
BODY_TIMEOUT_S = 2
MAX_UPLOAD_BYTES = 100_000
MAX_CONNECTIONS = 6
PATIENCE_S = 15  # how long a test waits for what the server should do within a few seconds


@pytest.fixture(scope="module")
def server(tiny_model_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = start_server(
        tiny_model_path,
        port,
        env={
            "OCR_LSTM_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
            "OCR_LSTM_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
            "OCR_LSTM_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
            "OCR_LSTM_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        },
    )
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}")
        yield "127.0.0.1", port
    finally:
        stop_server(process)


@contextlib.contextmanager
def connection(address: tuple[str, int]) -> Iterator[socket.socket]:
    sock = socket.create_connection(address, timeout=PATIENCE_S)
    try:
        yield sock
    finally:
        sock.close()


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (``socket.timeout`` if it never does)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def status_and_body(response: bytes) -> tuple[int, bytes, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body, head.decode().lower()


def test_responses_do_not_name_the_server(server: tuple[str, int]) -> None:
    response = httpx.get(f"http://{server[0]}:{server[1]}/healthz")
    assert response.status_code == 200 and "server" not in response.headers


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    with connection(server) as sock:
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - started < PATIENCE_S


def assert_security_headers(head: str) -> None:
    """The headers every answer carries (``service.headers``), those of the HTTP layer's own included."""
    assert "x-content-type-options: nosniff" in head and "x-frame-options: deny" in head
    assert "content-security-policy: default-src 'none'" in head and "referrer-policy: no-referrer" in head


def test_request_headers_that_never_finish_get_408_and_the_connection_closed(server: tuple[str, int]) -> None:
    with connection(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        status, body, head = status_and_body(read_until_closed(sock))
    assert status == 408
    assert json.loads(body) == {"detail": f"request headers not received within {HEADER_TIMEOUT_S} s"}
    assert_security_headers(head)


def test_a_body_that_stops_arriving_gets_408_and_the_connection_closed(server: tuple[str, int]) -> None:
    with connection(server) as sock:
        sock.sendall(
            b"POST /v1/recognize HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 5000\r\n\r\n--x\r\n"
        )
        status, body, head = status_and_body(read_until_closed(sock))
    assert status == 408 and "connection: close" in head
    assert json.loads(body) == {"detail": f"request body not received within {BODY_TIMEOUT_S} s"}


def test_a_chunked_body_over_the_limit_gets_413_and_the_rest_is_not_read(server: tuple[str, int]) -> None:
    """The server answers once the limit is passed and closes the connection, rather than draining what
    the client goes on sending (its lingering close reads at most twice the limit more); the test sends at
    most 1000 times the limit, more than the kernel's socket buffers hold, so that it cannot all be sent
    unless the server reads it."""
    chunk = b"%x\r\n%s\r\n" % (16384, b"\0" * 16384)
    with connection(server) as sock:
        sock.sendall(
            b"POST /v1/recognize HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
        sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        sent = 0
        with contextlib.suppress(ConnectionError):  # reset once the server has closed
            while sent < 1000 * MAX_UPLOAD_BYTES:
                sock.sendall(chunk)
                sent += len(chunk)
        response = read_until_closed(sock)
    assert sent < 1000 * MAX_UPLOAD_BYTES
    status, body, head = status_and_body(response)
    assert status == 413 and "connection: close" in head
    assert json.loads(body) == {"detail": f"request body larger than the limit of {MAX_UPLOAD_BYTES} bytes"}


def test_requests_on_connections_past_the_cap_get_503_and_are_closed(server: tuple[str, int]) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            stack.enter_context(connection(server))
        with connection(server) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            status, body, head = status_and_body(read_until_closed(extra))
    assert status == 503 and "retry-after: 1" in head and "connection: close" in head
    assert json.loads(body)["detail"].startswith(f"overloaded: more than {MAX_CONNECTIONS} connections")
    assert_security_headers(head)
    assert eventually_ok(f"http://{server[0]}:{server[1]}/healthz")  # once they are gone


def eventually_ok(url: str) -> bool:
    """Whether ``url`` answers 200 within ``PATIENCE_S`` (the server sees closed connections go soon after)."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        if httpx.get(url).status_code == 200:
            return True
        time.sleep(0.1)
    return False


def test_a_request_the_parser_refuses_gets_a_json_400(server: tuple[str, int]) -> None:
    with connection(server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, body, head = status_and_body(read_until_closed(sock))
    assert status == 400 and "content-type: application/json" in head
    assert json.loads(body) == {"detail": "Invalid HTTP request received."}
    assert_security_headers(head)
