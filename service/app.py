"""The FastAPI application: its state and lifespan (the model, its queue), the routes, error handlers and middleware.

The routes are in ``service.routes``, one ``APIRouter`` per kind; they reach what they share
through ``service.state``'s dependencies.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from ocr_lstm import __version__
from ocr_lstm.predictors import (
    OCR,
    DBDetector,
    DetectorConfig,
    LineFlipClassifier,
    OCRConfig,
    Recognizer,
    confidence_floor,
)
from service.admission import Admission, Slots
from service.errors import ServiceError
from service.headers import SecurityHeadersMiddleware
from service.images import ImageLimits
from service.memory import trim_when_idle
from service.metrics import ServiceMetrics
from service.middleware import (
    AdmissionMiddleware,
    ApiKeyMiddleware,
    BodyGuardMiddleware,
    BodyRefused,
    MetricsMiddleware,
)
from service.model_queue import CropFrames, Crops, ModelQueue
from service.routes import operations, page, recognition
from service.routes.responses import UNAUTHORIZED
from service.settings import ServiceSettings
from service.state import API_KEY_HEADER, ServiceState, require_api_key

ECHOED_INPUT_CHARS = 100  # of a value sent, in a 422: enough to recognise it, never a megabyte mirrored


# What /docs and /redoc say above the routes: what the service does, route by route.
DESCRIPTION = """\
- **Photos** - `POST /v1/ocr`: send one photo as `file`, or several as `files`. A text detector finds the lines,
  the recognizer reads each line whole and splits it into words: you get pages of blocks, lines and words, each with
  its text, confidence and polygon in the photo's pixels (`format=json`), or an hOCR document (`format=hocr`).
- **Cropped words** - `POST /v1/recognize`: one image as `file` gives its text, confidence and each character's
  confidence; several as `files` give a list, in order.
- **How the LSTM read a word** - `POST /v1/explain`: a picture of the reading column by column with the four gates
  of the last LSTM layer (`format=png`), or the numbers behind it (`format=json`).
- **The model and the server** - `GET /v1/model` (the loaded model), `/healthz`, `/readyz` and `/metrics`
  (Prometheus); the web page at `/`.

Concurrent requests share one model through a micro-batcher. Whole folders are read by the command line instead:
`ocr-lstm batch FOLDER --output results.jsonl` (add `--photos` for photos) or, on a Ray cluster, `ocr-lstm ray-batch`.
When the server has an API key, send it as the `X-API-Key` header.
"""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """A new application with its own model, queue and metrics registry."""
    settings = settings or ServiceSettings()
    metrics = ServiceMetrics()
    cores = max(2, os.cpu_count() or 2)
    state = ServiceState(
        settings=settings,
        metrics=metrics,
        crop_limits=ImageLimits(settings.max_crop_pixels, settings.max_aspect_ratio, "OCR_LSTM_MAX_CROP_PIXELS"),
        photo_limits=ImageLimits(settings.max_pixels, settings.max_aspect_ratio, "OCR_LSTM_MAX_PIXELS",
                                 settings.photo_read_pixels),
        # Decoding is CPU work too: more threads than cores only queue behind the GIL.
        decode_limiter=anyio.CapacityLimiter(cores),
        # Large word images (a 2000 x 2000 crop takes some 50 ms to decode) on one thread of their own: small
        # crops must not wait behind them.
        large_decode_limiter=anyio.CapacityLimiter(1),
        # One explain picture at a time (about 1 s of matplotlib each): concurrent explain calls
        # must not take the cores that recognition's decoding needs.
        render_limiter=anyio.CapacityLimiter(1),
        # Photos being decoded, detected and cut at once: more than one, so that their lines meet in
        # the model queue, and no more than the cores, since decoding and detection are the heavy part.
        photo_limiter=anyio.CapacityLimiter(cores),
        admission=Admission(settings),
        explains=Slots(settings.max_explains, "explain"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        recognizer = await anyio.to_thread.run_sync(_load_recognizer, settings)
        detector = await anyio.to_thread.run_sync(_load_detector, settings)
        queue: ModelQueue[Crops, CropFrames] = ModelQueue(
            recognizer.image_log_probs,
            settings.max_batch_size,
            settings.max_wait_ms,
            on_call=metrics.batch_size.observe,
            on_skipped=metrics.skipped.inc,
        )
        await queue.start()
        state.recognizer, state.model_queue = recognizer, queue
        state.detector = detector  # the routes find a photo's lines first, to count, cap and admit them
        config = confidence_floor(OCRConfig(), settings.min_confidence)
        # Its recognizer gives the lines' preparation and decoding; the routes run the model through the model queue.
        state.ocr = OCR(detector, recognizer, config,
                        LineFlipClassifier(threads=settings.threads, memory_arena=settings.detector_memory_arena))
        metrics.model_loaded.set(1)
        trimmer = None
        if settings.trim_memory:
            in_flight = state.admission.images
            trimmer = asyncio.create_task(trim_when_idle(lambda: queue.calls, lambda: in_flight.used > 0))
        try:
            yield
        finally:
            metrics.model_loaded.set(0)
            state.model_queue = None
            if trimmer is not None:
                trimmer.cancel()
            await queue.stop()

    app = FastAPI(
        title="ocr-lstm",
        summary="Text in photos and word images, read by a CRNN (CNN + BiLSTM + CTC).",
        description=DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc are service.routes.page's, from the package: FastAPI's use a CDN
        redoc_url=None,
        redirect_slashes=False,  # its redirect would send the client to whatever Host header it gave
    )
    app.state.service = state
    _add_exception_handlers(app, metrics)
    # The schema asks for the key, and lists its 401, only when the server wants one.
    if settings.api_key is not None:
        app.include_router(recognition.router, dependencies=[Depends(require_api_key)], responses=UNAUTHORIZED)
    else:
        app.include_router(recognition.router)
    app.include_router(operations.router)
    app.include_router(page.router)
    _declare_uploads_binary(app)
    _add_middleware(app, state)
    return app


def _declare_uploads_binary(app: FastAPI) -> None:
    """Mark the uploaded files ``format: binary`` in the schema, beside the ``contentMediaType`` of OpenAPI 3.1
    that FastAPI gives them: with that alone, fuzzers send any string as the image and count the 422s as valid
    requests refused."""
    schema_of = app.openapi

    def openapi() -> dict[str, Any]:
        marked = app.openapi_schema is not None  # FastAPI builds the schema once and keeps it: mark it once
        schema = schema_of()
        if not marked:
            _mark_binary(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _mark_binary(node: object) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("contentMediaType") == "application/octet-stream":
            node["format"] = "binary"
        for value in node.values():
            _mark_binary(value)
    elif isinstance(node, list):
        for value in node:
            _mark_binary(value)


def _add_middleware(app: FastAPI, state: ServiceState) -> None:
    """The middleware added last is the outermost."""
    admission = state.admission
    words = (admission.images, admission.pixels)
    photos = (admission.images, admission.photo_pixels, admission.lines)
    budgets = {recognition.RECOGNIZE: words, recognition.EXPLAIN: words, recognition.OCR: photos}
    app.add_middleware(AdmissionMiddleware, state=state, budgets=budgets, explain_path=recognition.EXPLAIN)
    settings = state.settings
    # Before the door: a request without the key costs no room.
    if settings.api_key is not None:
        api_paths = frozenset(route.path for route in recognition.router.routes if isinstance(route, Route))
        app.add_middleware(ApiKeyMiddleware, state=state, paths=api_paths)
    # Around both, so that a request refused there with its body unread has its connection closed.
    app.add_middleware(BodyGuardMiddleware, state=state)
    # CORS wraps the refusals, so that browsers can read them (the 413 of the body limit too).
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=[API_KEY_HEADER, "Content-Type"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost: sees every response. Its known paths are the routes: the app's own (/openapi.json) and
    # the routers' (included whole, without a prefix, so their routes' paths are the app's).
    routers = (app.router, recognition.router, operations.router, page.router)
    known_paths = frozenset(route.path for router in routers for route in router.routes if isinstance(route, Route))
    app.add_middleware(MetricsMiddleware, metrics=state.metrics, known_paths=known_paths)


def _load_detector(settings: ServiceSettings) -> DBDetector:
    return DBDetector(DetectorConfig(max_side=settings.detector_max_side), threads=settings.threads,
                      memory_arena=settings.detector_memory_arena)


def _load_recognizer(settings: ServiceSettings) -> Recognizer:
    # Its batch size counts images, a tall crop's turns included: one micro-batch, one forward pass.
    return Recognizer.from_options(settings.model, settings.recognizer_options())


def _add_exception_handlers(app: FastAPI, metrics: ServiceMetrics) -> None:
    async def service_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        metrics.errors.labels(exc.kind).inc()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        metrics.errors.labels("validation").inc()
        assert isinstance(exc, RequestValidationError)
        errors = [_shortened(error) for error in jsonable_encoder(exc.errors())]
        return JSONResponse({"detail": errors}, status_code=422)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        metrics.errors.labels(exc.kind if isinstance(exc, BodyRefused) else f"http_{exc.status_code}").inc()
        return await http_exception_handler(request, exc)

    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        metrics.errors.labels("internal").inc()
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)


def _shortened(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error with the value sent (``input``) cut to ``ECHOED_INPUT_CHARS``."""
    if "input" not in error:
        return error
    sent = error["input"]
    text = sent if isinstance(sent, str) else json.dumps(sent)
    if len(text) <= ECHOED_INPUT_CHARS:
        return error
    return {**error, "input": f"{text[:ECHOED_INPUT_CHARS]}... ({len(text)} characters)"}
