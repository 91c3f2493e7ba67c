"""Pure ASGI middleware: request metrics, the guards on request bodies, and admission at the door.

Pure ASGI rather than ``BaseHTTPMiddleware`` so that ``receive`` is passed
through untouched: the endpoints listen on it for client disconnects.
"""

from __future__ import annotations

import contextlib
import time

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.admission import Ticket
from service.asgi import send_json
from service.errors import ServiceError
from service.metrics import ServiceMetrics
from service.state import ServiceState, not_ready

# The methods of RFC 9110 and PATCH; any other is counted as "other", so that random method
# names cannot grow the metrics without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


class BodyRefused(HTTPException):
    """Raised from ``receive`` inside an endpoint; FastAPI passes HTTPExceptions through body parsing."""

    def __init__(self, status: int, detail: str, kind: str) -> None:
        super().__init__(status, detail)
        self.kind = kind


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, f"request body larger than the limit of {limit} bytes", "too_large")


class BodyGuardMiddleware:
    """Bounds request bodies in size and time, and closes a connection whose body was not all read.

    A body over ``max_upload_bytes`` gets 413 (at once from its Content-Length, else as soon as the
    streamed body passes it), and one not all received within ``body_timeout_s`` of the headers gets 408.
    A response that starts before the body is all in (those two, the 503 of the door, any other)
    says ``Connection: close``: else uvicorn would read and discard the rest of the body, however
    long, to keep the connection. While the server drains, every response closes its connection, so
    that clients reconnect (to another instance, behind a balancer).
    """

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.state.settings
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_upload_bytes:
            refused = too_large(settings.max_upload_bytes)
            self.state.metrics.errors.labels(refused.kind).inc()
            await send_json(send, refused.status_code, {"detail": refused.detail})
            return
        body_done = declared in (None, "0") and "transfer-encoding" not in headers
        received = 0
        deadline = time.monotonic() + settings.body_timeout_s

        async def guarded_receive() -> Message:
            nonlocal body_done, received
            if body_done:
                return await receive()
            message = await _before(deadline, receive, settings.body_timeout_s)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > settings.max_upload_bytes:
                    raise too_large(settings.max_upload_bytes)
                body_done = not message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and (not body_done or self.state.draining):
                MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        await self.app(scope, guarded_receive, closing_send)


async def _before(deadline: float, receive: Receive, timeout_s: float) -> Message:
    """The next message of ``receive``, or 408 once ``deadline`` (``time.monotonic``) has passed."""
    try:
        with anyio.fail_after(max(0.0, deadline - time.monotonic())):
            return await receive()
    except TimeoutError:
        raise BodyRefused(408, f"request body not received within {timeout_s:g} s", "body_timeout") from None


class AdmissionMiddleware:
    """Admits the upload requests to ``paths`` before their body is read (``service.admission``).

    Answers 503 at once, with the body unread, when the model is not loaded, when ``explain_path``'s
    slots are all taken, or when no room is left for images or pixels. Otherwise the request holds a
    ``Ticket`` (``request.state.admission``) until it has been answered, and its endpoint sets the
    ticket to what the request really costs.
    """

    def __init__(self, app: ASGIApp, state: ServiceState, paths: frozenset[str], explain_path: str) -> None:
        self.app = app
        self.state = state
        self.paths = paths
        self.explain_path = explain_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        with contextlib.ExitStack() as held:
            try:
                scope.setdefault("state", {})["admission"] = self._enter(scope["path"], held)
            except ServiceError as refused:
                self.state.metrics.errors.labels(refused.kind).inc()
                await send_json(send, refused.status, {"detail": refused.detail}, (refused.headers or {}).items())
                return
            await self.app(scope, receive, send)

    def _enter(self, path: str, held: contextlib.ExitStack) -> Ticket:
        if not self.state.ready:
            raise not_ready()
        if path == self.explain_path:
            held.enter_context(self.state.explains.take())
        ticket = self.state.admission.enter()
        held.callback(ticket.release)
        return ticket


class MetricsMiddleware:
    """Counts every response by endpoint, method and status, and times it.

    ``known_paths`` are the application's routes (``create_app`` takes them from
    the router); any other path is labelled ``other``, and so is any method
    outside ``KNOWN_METHODS``.
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
            # Unknown paths and methods share one label so that scanners cannot blow up the label set.
            endpoint = scope["path"] if scope["path"] in self.known_paths else "other"
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            self.metrics.requests.labels(endpoint, method, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
