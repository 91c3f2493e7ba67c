"""The refusals each route documents in the OpenAPI schema (all ``{"detail": ...}``, ``ErrorOut``)."""

from __future__ import annotations

from typing import Any

from service.early_answers import RETRY_AFTER_S
from service.schemas import ErrorOut

Responses = dict[int | str, dict[str, Any]]


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description, **extra}


UNAUTHORIZED: Responses = {401: _error("missing or wrong API key")}  # only where the server has a key
NOT_READY: Responses = {503: _error("the model is not loaded yet")}
DRAINING: Responses = {503: _error("the model is not loaded yet, or the server is shutting down")}

_RETRY_AFTER = {
    "Retry-After": {
        "description": f"seconds to wait before retrying ({RETRY_AFTER_S}), when overloaded or busy",
        "schema": {"type": "integer"},
    }
}


def upload_errors(unprocessable: str, busy: str = "") -> Responses:
    """The refusals of an endpoint that takes image uploads; ``busy`` adds a reason for its 503."""
    return {
        400: _error("not a readable multipart body: no or a bad boundary, malformed parts, more than 1000 fields"),
        408: _error("the request body did not all arrive within OCR_LSTM_BODY_TIMEOUT_S (the connection is closed)"),
        413: _error(
            "request body over OCR_LSTM_MAX_UPLOAD_BYTES, more files than OCR_LSTM_MAX_FILES, an image over its "
            "pixel limit, the images together over OCR_LSTM_MAX_REQUEST_PIXELS, or photos with more text lines "
            "together than OCR_LSTM_MAX_PENDING_LINES"
        ),
        415: _error("not a supported image type (sniffed from the content)"),
        422: _error(unprocessable),
        503: _error(
            "the model is not loaded yet, or accepting the request would put more than OCR_LSTM_MAX_PENDING "
            "images, or more pixels of its kind of image (OCR_LSTM_MAX_PENDING_PIXELS, ..._LARGE_PIXELS, "
            f"..._PHOTO_PIXELS), or more photo text lines than OCR_LSTM_MAX_PENDING_LINES in flight{busy} "
            "(then with Retry-After; before the body is read when a budget is already full)",
            headers=_RETRY_AFTER,
        ),
        504: _error("not done within OCR_LSTM_REQUEST_TIMEOUT_S"),
    }
