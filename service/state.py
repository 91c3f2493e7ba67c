"""What one application instance holds, and the dependencies through which the routes reach it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from ocr_lstm.predictors import OCR, Recognizer, TextDetector
from service.admission import Admission, Slots, Ticket
from service.errors import ServiceError
from service.images import ImageLimits
from service.metrics import ServiceMetrics
from service.model_queue import CropFrames, Crops, ModelQueue
from service.settings import ServiceSettings

API_KEY_HEADER = "X-API-Key"


@dataclass
class ServiceState:
    """Everything one application instance holds; built by ``create_app``, filled by the lifespan."""

    settings: ServiceSettings
    metrics: ServiceMetrics
    crop_limits: ImageLimits  # /v1/recognize and /v1/explain
    photo_limits: ImageLimits  # /v1/ocr
    decode_limiter: anyio.CapacityLimiter  # word images
    large_decode_limiter: anyio.CapacityLimiter  # word images over settings.large_crop_pixels
    render_limiter: anyio.CapacityLimiter
    photo_limiter: anyio.CapacityLimiter
    admission: Admission
    explains: Slots
    recognizer: Recognizer | None = None
    model_queue: ModelQueue[Crops, CropFrames] | None = None
    ocr: OCR | None = None
    detector: TextDetector | None = None  # the one ocr holds: the routes find a photo's lines with it first
    draining: bool = False  # set on SIGTERM (service.main): /readyz says 503 while the server drains

    @property
    def ready(self) -> bool:
        return self.recognizer is not None and self.model_queue is not None and self.model_queue.running


def service_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def not_ready() -> ServiceError:
    return ServiceError(503, "the model is not loaded yet", "not_ready")


async def ready_state(request: Request) -> ServiceState:
    # async: FastAPI would run a plain def dependency on a worker thread
    state = service_state(request)
    if not state.ready:
        raise not_ready()
    return state


async def admission_ticket(request: Request) -> Ticket:
    """The room ``AdmissionMiddleware`` took for this request at the door."""
    ticket: Ticket = request.state.admission
    return ticket


api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="the server's OCR_LSTM_API_KEY")


def key_matches(sent: str | None, expected: SecretStr) -> bool:
    """Whether ``sent`` is the key, compared in constant time."""
    return sent is not None and secrets.compare_digest(sent.encode(), expected.get_secret_value().encode())


def unauthorized() -> ServiceError:
    return ServiceError(
        401,
        f"missing or wrong API key (header {API_KEY_HEADER})",
        "unauthorized",
        headers={"WWW-Authenticate": "ApiKey"},
    )


async def require_api_key(request: Request, key: Annotated[str | None, Security(api_key_header)] = None) -> None:
    """401 unless the request carries the key. ``service.middleware.ApiKeyMiddleware`` has already refused,
    from the headers, every request without it; this dependency is what puts the key in the schema (``create_app``
    adds it to the /v1 routes only when a key is set, so that the schema asks for one only then)."""
    expected = service_state(request).settings.api_key
    assert expected is not None
    if not key_matches(key, expected):
        raise unauthorized()


State = Annotated[ServiceState, Depends(ready_state)]
Admitted = Annotated[Ticket, Depends(admission_ticket)]
