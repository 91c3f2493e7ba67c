"""Pure ASGI middleware: request metrics, the guards on request bodies, the API key, and admission at the door.

Pure ASGI rather than ``BaseHTTPMiddleware`` so that ``receive`` is passed
through untouched: the endpoints listen on it for client disconnects.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.admission import Admission, Budget, Ticket
from service.early_answers import send_json
from service.errors import ServiceError
from service.metrics import ServiceMetrics
from service.state import API_KEY_HEADER, ServiceState, key_matches, not_ready, unauthorized

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
    streamed body passes it), and one not all received within ``body_timeout_s`` of the headers, or
    arriving slower than ``min_body_rate`` bytes per second on average once ``body_grace_s`` has passed,
    gets 408: a slow sender holds its own connection, briefly, and nothing else.
    A response that starts before the body is all in (those two, the 401 and 503 of the door, any other)
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
        started = time.monotonic()
        deadline = started + settings.body_timeout_s

        async def guarded_receive() -> Message:
            nonlocal body_done, received
            if body_done:
                return await receive()
            due, why = deadline, f"request body not received within {settings.body_timeout_s:g} s"
            if settings.min_body_rate:
                # By t seconds after the headers, (t - grace) * rate bytes must have come.
                slow = started + settings.body_grace_s + received / settings.min_body_rate
                if slow < due:
                    due, why = slow, f"request body arriving slower than {settings.min_body_rate} bytes/s"
            message = await _before(due, receive, why)
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


async def _before(deadline: float, receive: Receive, why: str) -> Message:
    """The next message of ``receive``, or 408 saying ``why`` once ``deadline`` (``time.monotonic``) has passed."""
    try:
        with anyio.fail_after(max(0.0, deadline - time.monotonic())):
            return await receive()
    except TimeoutError:
        raise BodyRefused(408, why, "body_timeout") from None


class ApiKeyMiddleware:
    """401 for a request to ``paths`` without the right key, from its headers alone: its body is never read,
    and it never reaches the door, so that requests without the key cost no room in any budget."""

    def __init__(self, app: ASGIApp, state: ServiceState, paths: frozenset[str]) -> None:
        self.app = app
        self.state = state
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        expected = self.state.settings.api_key
        if (
            scope["type"] == "http"
            and expected is not None
            and scope["path"] in self.paths
            and not key_matches(Headers(scope=scope).get(API_KEY_HEADER), expected)
        ):
            refused = unauthorized()
            self.state.metrics.errors.labels(refused.kind).inc()
            await send_json(send, refused.status, {"detail": refused.detail}, (refused.headers or {}).items())
            return
        await self.app(scope, receive, send)


class AdmissionMiddleware:
    """Looks at the upload requests to the paths of ``budgets`` before their body is read (``service.admission``).

    Answers 503 at once, with the body unread, when the model is not loaded, when ``explain_path``'s
    slots are all taken, or when a budget the path draws on is full. Otherwise the request goes on
    holding nothing while its body arrives, with an empty ``Ticket`` (``request.state.admission``) that
    its endpoint fills with what the request really costs and that is released once it is answered.
    """

    def __init__(
        self, app: ASGIApp, state: ServiceState, budgets: Mapping[str, Sequence[Budget]], explain_path: str
    ) -> None:
        self.app = app
        self.state = state
        self.budgets = budgets
        self.explain_path = explain_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.budgets:
            await self.app(scope, receive, send)
            return
        try:
            ticket = self._door(scope["path"])
        except ServiceError as refused:
            self.state.metrics.errors.labels(refused.kind).inc()
            await send_json(send, refused.status, {"detail": refused.detail}, (refused.headers or {}).items())
            return
        scope.setdefault("state", {})["admission"] = ticket
        try:
            await self.app(scope, receive, send)
        finally:
            ticket.release()

    def _door(self, path: str) -> Ticket:
        if not self.state.ready:
            raise not_ready()
        if path == self.explain_path and self.state.explains.full:
            raise self.state.explains.refusal()
        return Admission.door(self.budgets[path])


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
