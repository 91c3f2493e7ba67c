"""A JSON answer sent straight from ASGI code that runs outside FastAPI (middleware, the HTTP protocol)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import Send

RETRY_AFTER_S = 1  # the smallest whole number of seconds: room comes back within a second unless saturated


async def send_json(
    send: Send, status: int, content: dict[str, object], headers: Iterable[tuple[str, str]] = ()
) -> None:
    """Answer ``content`` with ``status`` and close the connection: such answers come before the body is read."""
    body = json.dumps(content).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((name.lower().encode(), value.encode()) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def retry_after() -> dict[str, str]:
    """The header of a 503 that the client may retry."""
    return {"Retry-After": str(RETRY_AFTER_S)}
