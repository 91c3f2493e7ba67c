"""The HTTP/1.1 protocol that ``ocr-lstm serve`` gives uvicorn: its h11 one, with the guards it lacks.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but has no clock on
a connection that never finishes its request headers (nor on one that sends nothing at all),
so slow clients could hold connections and descriptors for ever. Here:

- a request's headers must arrive within ``header_timeout_s`` of the connection, or of the
  first byte after a keep-alive pause; else the connection is closed (with a 408 when part of
  a request had come);
- a connection past ``max_connections`` is answered 503 with ``Retry-After`` and closed, as
  soon as its request headers are in (so at most ``header_timeout_s`` later);
- a request h11 cannot parse is answered 400 in JSON, as every other refusal, not in text.

The request body has its own clock, in ``service.middleware.BodyGuardMiddleware``.
"""

from __future__ import annotations

import asyncio
import json

import h11
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.asgi import retry_after, send_json


class GuardedH11Protocol(H11Protocol):
    """uvicorn's ``H11Protocol`` with a header timeout, a connection cap and JSON 400s (see the module)."""

    header_timeout_s = 10.0
    max_connections = 512

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        if len(self.connections) > self.max_connections:
            self.app = self._over_capacity
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"detail": msg}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()

    def _watch_headers(self) -> None:
        """Run the header clock while a request's headers are awaited, and only then (uvicorn's own
        keep-alive clock runs between requests)."""
        awaited = (
            self.conn.their_state is h11.IDLE
            and self.timeout_keep_alive_task is None
            and not self.transport.is_closing()
        )
        if awaited and self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)
        elif not awaited:
            self._stop_header_timer()

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.conn.trailing_data[0]:  # part of a request came: say why it is cut off
            body = json.dumps({"detail": f"request headers not received within {self.header_timeout_s:g} s"})
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n{body}".encode()
            )
        self.conn.send(h11.ConnectionClosed())
        self.transport.close()

    async def _over_capacity(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The application of a connection past the cap."""
        detail = f"overloaded: more than {self.max_connections} connections are open; retry later"
        await send_json(send, 503, {"detail": detail}, retry_after().items())


def guarded_h11(header_timeout_s: float, max_connections: int) -> type[GuardedH11Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout_s": header_timeout_s, "max_connections": max_connections},
    )
