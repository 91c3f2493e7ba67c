"""Security headers on every response, and the Content-Security-Policy of each kind of page.

The API answers JSON, PNG and hOCR, which need nothing: ``API_POLICY`` forbids everything.
The web page's script and style are served files (``service/static``), so ``PAGE_POLICY``
allows only this origin; it allows ``blob:`` images for the preview of the user's own
file. Swagger UI and ReDoc set inline styles and ReDoc starts a worker from a ``blob:``,
so ``DOCS_POLICY`` allows those, and still no script but the served files.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NEVER = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
API_POLICY = f"default-src 'none'; {_NEVER}"
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    f"{_NEVER}"
)
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    f"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; {_NEVER}"
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP
    "Referrer-Policy": "no-referrer",
}


def api_security_headers() -> dict[str, str]:
    """``SECURITY_HEADERS`` with ``API_POLICY``: for the answers the HTTP layer sends without the middleware."""
    return {**SECURITY_HEADERS, "Content-Security-Policy": API_POLICY}


class SecurityHeadersMiddleware:
    """Adds ``SECURITY_HEADERS`` to every response, and ``API_POLICY`` to those that set no policy of their own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", API_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)
