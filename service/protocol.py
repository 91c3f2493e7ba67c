"""The HTTP/1.1 protocol that ``ocr-lstm serve`` gives uvicorn: its h11 one, with the guards it lacks.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but has no clock on
a connection that never finishes its request headers (nor on one that sends nothing at all),
so slow clients could hold connections and descriptors for ever. Here:

- a request's headers must arrive within ``header_timeout_s`` of the connection, or of the
  first byte after a keep-alive pause; else the connection is closed (with a 408 when part of
  a request had come);
- a connection past ``max_connections`` is answered 503 with ``Retry-After`` and closed, as
  soon as its request headers are in (so at most ``header_timeout_s`` later);
- a request h11 cannot parse is answered 400 in JSON, as every other refusal, not in text, and
  this layer's answers (that 400, the 408, the cap's 503) carry the security headers of
  ``service.headers``, as the application's do;
- an answer sent before the request's body was all received (a 401, 413 or 503 from the
  headers) is followed by a lingering close, as nginx does: the server shuts its side, then
  reads and discards what the client still sends, for at most ``linger_s`` (and no more than
  ``LINGER_IDLE_S`` without a byte) and ``linger_bytes``, before it closes. Closing at once
  would make the kernel answer the client's next bytes with a reset, which throws away the
  answer in clients that write the whole body before they read (``httpx.AsyncClient``,
  browsers' fetch).

The request body has its own clock, in ``service.middleware.BodyGuardMiddleware``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import h11
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.early_answers import retry_after, send_json
from service.headers import api_security_headers

LINGER_IDLE_S = 1.0  # a client still sending its body sends more within a second; a stalled one is let go


class LingeringTransport:
    """A connection's transport whose ``close`` lets the client finish sending first, while
    ``client_sending()`` says it has not sent all of its request (see the module)."""

    def __init__(
        self,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop,
        client_sending: Callable[[], bool],
        linger_s: float,
        linger_bytes: int,
    ) -> None:
        self._transport = transport
        self._loop = loop
        self._client_sending = client_sending
        self._linger_s = linger_s
        self._linger_bytes = linger_bytes
        self._deadline: asyncio.TimerHandle | None = None
        self._idle: asyncio.TimerHandle | None = None
        self.lingering = False
        self.discarded = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def close(self) -> None:
        if self.is_closing():
            return
        if not self._client_sending() or not self._transport.can_write_eof():
            self._transport.close()
            return
        self.lingering = True
        self._transport.write_eof()  # the answer goes out, then our side of the connection is shut
        self._transport.resume_reading()
        self._deadline = self._loop.call_later(self._linger_s, self.end)
        self._idle = self._loop.call_later(LINGER_IDLE_S, self.end)

    def pause_reading(self) -> None:
        if not self.lingering:
            self._transport.pause_reading()

    def discard(self, data: bytes) -> None:
        """What came while lingering; past ``linger_bytes`` the connection is closed."""
        self.discarded += len(data)
        if self.discarded > self._linger_bytes:
            self.end()
        elif self._idle is not None:
            self._idle.cancel()
            self._idle = self._loop.call_later(LINGER_IDLE_S, self.end)

    def end(self) -> None:
        """Close for good."""
        for timer in (self._deadline, self._idle):
            if timer is not None:
                timer.cancel()
        self._deadline = self._idle = None
        self._transport.close()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's ``H11Protocol`` with a header timeout, a connection cap, JSON 400s and a lingering close
    (see the module)."""

    header_timeout_s = 10.0
    max_connections = 512
    linger_s = 5.0
    linger_bytes = 40 * 1024 * 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.lingering = LingeringTransport(
            transport, self.loop, self._client_sending, self.linger_s, self.linger_bytes
        )
        super().connection_made(self.lingering)  # type: ignore[arg-type]
        self._header_timer: asyncio.TimerHandle | None = None
        if len(self.connections) > self.max_connections:
            self.app = self._over_capacity
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        if self.lingering.lingering:
            self.lingering.discard(data)
            return
        super().data_received(data)
        self._watch_headers()

    def eof_received(self) -> None:
        if self.lingering.lingering:
            self.lingering.end()
        super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        self.lingering.end()
        super().connection_lost(exc)

    def _client_sending(self) -> bool:
        """Whether the client may still be sending its request's body."""
        return self.conn.their_state is h11.SEND_BODY

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"detail": msg}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *((name.encode(), value.encode()) for name, value in api_security_headers().items()),
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
            security = "".join(f"{name}: {value}\r\n" for name, value in api_security_headers().items())
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(body)}\r\nconnection: close\r\n{security}\r\n{body}".encode()
            )
        self.conn.send(h11.ConnectionClosed())
        self.transport.close()

    async def _over_capacity(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The application of a connection past the cap."""
        detail = f"overloaded: more than {self.max_connections} connections are open; retry later"
        await send_json(send, 503, {"detail": detail}, {**retry_after(), **api_security_headers()}.items())


def guarded_h11(header_timeout_s: float, max_connections: int, max_upload_bytes: int) -> type[GuardedH11Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with these limits; a lingering close reads at most
    two uploads' worth."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {
            "header_timeout_s": header_timeout_s,
            "max_connections": max_connections,
            "linger_bytes": 2 * max_upload_bytes,
        },
    )
