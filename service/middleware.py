"""Pure ASGI middleware: request metrics and the request body limit.

Pure ASGI rather than ``BaseHTTPMiddleware`` so that ``receive`` is passed
through untouched: the endpoints listen on it for client disconnects.
"""

from __future__ import annotations

import json
import time

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import ServiceMetrics


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` inside an endpoint; FastAPI passes HTTPExceptions through body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {limit} bytes")


class BodySizeLimitMiddleware:
    """413 for bodies over ``max_bytes``: at once from Content-Length, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, metrics: ServiceMetrics) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            self.metrics.errors.labels("too_large").inc()
            await _send_json(
                send, 413, {"detail": f"request body larger than the limit of {self.max_bytes} bytes"}
            )
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


class MetricsMiddleware:
    """Counts every response by endpoint and status, and times it.

    ``known_paths`` are the application's routes (``create_app`` takes them from
    the router, so FastAPI's own ``/docs``, ``/redoc`` and ``/docs/oauth2-redirect``
    are in it); any other path is labelled ``other``.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, known_paths: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.known_paths = known_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            # Unknown paths share one label so that scanners cannot blow up the label set.
            endpoint = scope["path"] if scope["path"] in self.known_paths else "other"
            self.metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)


async def _send_json(send: Send, status: int, content: dict[str, object]) -> None:
    body = json.dumps(content).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
