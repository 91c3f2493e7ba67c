"""The one exception the service raises for a request it refuses or cannot finish."""

from __future__ import annotations


class ServiceError(Exception):
    """Answered as ``{"detail": detail}`` with ``status``; ``kind`` labels the error metric."""

    def __init__(self, status: int, detail: str, kind: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.headers = headers
