"""The FastAPI application: HTTP in, ``Recognizer`` calls through the micro-batcher, JSON out."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any, Literal, TypeVar

import anyio
from fastapi import Depends, FastAPI, File, Query, Request, Security, UploadFile
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from ocr_lstm import __version__
from ocr_lstm.detection import DBDetector, DetectorConfig
from ocr_lstm.elements import Page, Recognition
from ocr_lstm.explain import Explanation, explain_prepared
from ocr_lstm.photo.pipeline import OCR
from ocr_lstm.recognizer import PreparedImage, Recognizer
from service.admission import RETRY_AFTER_S, PendingImages
from service.batcher import MicroBatcher
from service.errors import ServiceError
from service.images import ImageLimits, prepare_upload
from service.metrics import ServiceMetrics
from service.middleware import BodySizeLimitMiddleware, BodyTooLarge, MetricsMiddleware
from service.photo import BatchedLineReader, BatchItem, BatchResult, decode_photo, run_batch
from service.schemas import ErrorOut, Health, ModelInfo, PageOut, Readiness, RecognitionOut
from service.settings import ServiceSettings

T = TypeVar("T")

API_KEY_HEADER = "X-API-Key"
CLIENT_CLOSED_REQUEST = 499  # nginx's status for a client that went away; nobody reads it

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        401: "missing or wrong API key",
        413: "request body, image or file count over the limit",
        415: "not a supported image type (sniffed from the content)",
        422: "no file, or an empty, truncated, corrupt, zero-sized or absurdly shaped image",
        504: "not done within the request timeout",
    }.items()
}
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "the model is not loaded yet"}
}
BUSY: dict[int | str, dict[str, Any]] = {  # the endpoints that count against OCR_LSTM_MAX_PENDING
    503: {
        "model": ErrorOut,
        "description": "the model is not loaded yet, or more images are waiting than OCR_LSTM_MAX_PENDING "
        "(then with Retry-After)",
        "headers": {
            "Retry-After": {
                "description": f"seconds to wait before retrying ({RETRY_AFTER_S}), when overloaded",
                "schema": {"type": "integer"},
            }
        },
    }
}
RECOGNIZE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    422: {
        "model": ErrorOut,
        "description": "no file, both `file` and `files`, or an empty, truncated, corrupt, zero-sized or "
        "absurdly shaped image",
    },
    **BUSY,
}


@dataclass
class ServiceState:
    """Everything one application instance holds; built by ``create_app``, filled by the lifespan."""

    settings: ServiceSettings
    metrics: ServiceMetrics
    limits: ImageLimits
    decode_limiter: anyio.CapacityLimiter
    render_limiter: anyio.CapacityLimiter
    pending: PendingImages
    photo_limiter: anyio.CapacityLimiter
    recognizer: Recognizer | None = None
    batcher: MicroBatcher[BatchItem, BatchResult] | None = None
    ocr: OCR | None = None
    page: str = field(default="", repr=False)

    @property
    def ready(self) -> bool:
        return self.recognizer is not None and self.batcher is not None and self.batcher.running


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """A new application with its own model, batcher and metrics registry."""
    settings = settings or ServiceSettings()
    metrics = ServiceMetrics()
    state = ServiceState(
        settings=settings,
        metrics=metrics,
        limits=ImageLimits(settings.max_pixels, settings.max_aspect_ratio),
        # Decoding is CPU work too: more threads than cores only queue behind the GIL.
        decode_limiter=anyio.CapacityLimiter(max(2, os.cpu_count() or 2)),
        # One explain picture at a time (about 1 s of matplotlib each): concurrent explain calls
        # must not take the cores that recognition's decoding needs.
        render_limiter=anyio.CapacityLimiter(1),
        pending=PendingImages(settings.max_pending),
        # Photos being detected and cut at once: more than one, so that their lines meet in the
        # batcher, and no more than the cores, since detection is the heavy part.
        photo_limiter=anyio.CapacityLimiter(max(2, os.cpu_count() or 2)),
        page=(resources.files("service") / "static" / "index.html").read_text(encoding="utf-8"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        recognizer = await anyio.to_thread.run_sync(_load_recognizer, settings)
        detector = await anyio.to_thread.run_sync(_load_detector, settings)
        batcher: MicroBatcher[BatchItem, BatchResult] = MicroBatcher(
            lambda items: run_batch(recognizer, items),
            settings.max_batch_size,
            settings.max_wait_ms,
            on_batch=metrics.batch_size.observe,
            on_skipped=metrics.skipped.inc,
        )
        await batcher.start()
        state.recognizer, state.batcher = recognizer, batcher
        state.ocr = OCR(detector, BatchedLineReader(recognizer, batcher.submit))
        metrics.model_loaded.set(1)
        try:
            yield
        finally:
            metrics.model_loaded.set(0)
            state.batcher = None
            await batcher.stop()

    app = FastAPI(
        title="ocr-lstm",
        summary="Scene-text recognition (CRNN: CNN + BiLSTM + CTC): post a word image, get its text.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.service = state
    _add_exception_handlers(app, metrics)
    _add_routes(app)
    # The middleware added last is the outermost: CORS wraps the body limit so that browsers can read its 413.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes, metrics=metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=[API_KEY_HEADER, "Content-Type"],
        )
    # Outermost: sees every response. Its known paths are the routes, FastAPI's /docs and /redoc included.
    known_paths = frozenset(route.path for route in app.routes if isinstance(route, Route))
    app.add_middleware(MetricsMiddleware, metrics=metrics, known_paths=known_paths)
    return app


def _load_detector(settings: ServiceSettings) -> DBDetector:
    return DBDetector(DetectorConfig(max_side=settings.detector_max_side), threads=settings.threads)


def _load_recognizer(settings: ServiceSettings) -> Recognizer:
    return Recognizer(
        settings.model,
        device=settings.device,
        # A tall crop is read upright and turned both ways: room for three crops per image.
        batch_size=3 * settings.max_batch_size,
        threads=settings.threads,
        decoding=settings.decoding,
        backend=settings.backend,
        word_prior=settings.word_prior,
    )


async def ready_state(request: Request) -> ServiceState:
    # async: FastAPI would run a plain def dependency on a worker thread
    state: ServiceState = request.app.state.service
    if not state.ready:
        raise ServiceError(503, "the model is not loaded yet", "not_ready")
    return state


api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="required when the server sets OCR_LSTM_API_KEY"
)


async def require_api_key(
    request: Request, key: Annotated[str | None, Security(api_key_header)] = None
) -> None:
    expected = request.app.state.service.settings.api_key
    if expected is None:
        return
    if key is None or not secrets.compare_digest(key.encode(), expected.get_secret_value().encode()):
        raise ServiceError(
            401,
            f"missing or wrong API key (header {API_KEY_HEADER})",
            "unauthorized",
            headers={"WWW-Authenticate": "ApiKey"},
        )


State = Annotated[ServiceState, Depends(ready_state)]


def _add_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(request.app.state.service.page)

    @app.get("/healthz", response_model=Health, tags=["operations"], summary="the process is alive")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Readiness,
        tags=["operations"],
        summary="the model is loaded",
        responses=NOT_READY,
    )
    async def readyz(state: State) -> Readiness:
        assert state.recognizer is not None
        return Readiness(status="ready", model=state.recognizer.name)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    async def metrics(request: Request) -> Response:
        registry = request.app.state.service.metrics
        return Response(registry.render(), media_type=registry.content_type)

    @app.get(
        "/v1/model",
        response_model=ModelInfo,
        tags=["recognition"],
        summary="the loaded model",
        dependencies=[Depends(require_api_key)],
        responses={401: ERRORS[401], **NOT_READY},
    )
    async def model_info(state: State) -> ModelInfo:
        assert state.recognizer is not None
        return ModelInfo(
            **state.recognizer.describe(),
            max_batch_size=state.settings.max_batch_size,
            max_wait_ms=state.settings.max_wait_ms,
        )

    @app.post(
        "/v1/recognize",
        response_model=RecognitionOut | list[RecognitionOut],
        tags=["recognition"],
        summary="read the text of word images",
        description="Send one image as multipart field `file` to get one result, or several as `files` "
        "to get a list in the same order (not both). The image type is sniffed from the content.",
        dependencies=[Depends(require_api_key)],
        responses=RECOGNIZE_ERRORS,
    )
    async def recognize(
        request: Request,
        state: State,
        file: Annotated[UploadFile | None, File(description="one image")] = None,
        files: Annotated[list[UploadFile] | None, File(description="several images")] = None,
    ) -> RecognitionOut | list[RecognitionOut]:
        started = time.perf_counter()
        uploads = _uploads(file, files, state.settings.max_files)
        several = files is not None

        async def read_all(contents: list[bytes]) -> list[Recognition]:
            assert state.batcher is not None
            with state.batcher.expecting(len(contents)):
                prepared = await asyncio.gather(
                    *(
                        _prepare(state, data, index if several else None)
                        for index, data in enumerate(contents)
                    )
                )
            return [r for r in await state.batcher.submit(prepared) if isinstance(r, Recognition)]

        with state.pending.admit(len(uploads)):
            contents = [await upload.read() for upload in uploads]
            recognitions = await _until_done_or_gone(
                request, lambda: read_all(contents), state.settings.request_timeout_s
            )
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        assert state.recognizer is not None
        results = [
            RecognitionOut(**r.as_dict(), model=state.recognizer.name, elapsed_ms=elapsed_ms)
            for r in recognitions
        ]
        state.metrics.images.inc(len(results))
        return results if several else results[0]

    @app.post(
        "/v1/ocr",
        response_model=PageOut | list[PageOut],
        tags=["recognition"],
        summary="read whole photos: the text with a polygon for every word",
        description="Send one photo as multipart field `file` to get one page, or several as `files` to get a "
        "list in the same order (not both). Text lines are detected, read whole and split into words; "
        "`format=hocr` returns an hOCR document instead of JSON.",
        dependencies=[Depends(require_api_key)],
        responses={**RECOGNIZE_ERRORS, 200: {"content": {"application/json": {}, "text/html": {}}}},
    )
    async def ocr(
        request: Request,
        state: State,
        file: Annotated[UploadFile | None, File(description="one photo")] = None,
        files: Annotated[list[UploadFile] | None, File(description="several photos")] = None,
        format: Annotated[Literal["json", "hocr"], Query(description="json pages or an hOCR document")] = "json",
    ) -> Response:
        started = time.perf_counter()
        uploads = _uploads(file, files, state.settings.max_files)
        several = files is not None

        async def read_all(contents: list[bytes]) -> list[Page]:
            return list(await asyncio.gather(*(
                _read_photo(state, data, upload.filename, index if several else None)
                for index, (data, upload) in enumerate(zip(contents, uploads))
            )))

        with state.pending.admit(len(uploads)):
            contents = [await upload.read() for upload in uploads]
            pages = await _until_done_or_gone(request, lambda: read_all(contents), state.settings.request_timeout_s)
        state.metrics.images.inc(len(pages))
        if format == "hocr":
            from ocr_lstm.exports import to_hocr

            return Response(to_hocr(pages), media_type="text/html; charset=utf-8")
        assert state.recognizer is not None
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        out = [{**page.export(), "model": state.recognizer.name, "elapsed_ms": elapsed_ms} for page in pages]
        return JSONResponse(out if several else out[0])

    @app.post(
        "/v1/explain",
        tags=["recognition"],
        summary="what the LSTM's gates do over an image",
        description="A picture (`format=png`) or the numbers (`format=json`) behind one reading.",
        dependencies=[Depends(require_api_key)],
        response_class=Response,
        responses={
            200: {"content": {"image/png": {}, "application/json": {}}},
            **ERRORS,
            **BUSY,
        },
    )
    async def explain(
        request: Request,
        state: State,
        file: Annotated[UploadFile, File(description="one image")],
        format: Annotated[Literal["png", "json"], Query(description="png picture or json numbers")] = "png",
    ) -> Response:
        data = await file.read()
        assert state.batcher is not None and state.recognizer is not None
        batcher, recognizer = state.batcher, state.recognizer

        async def run() -> Explanation:
            prepared = await _prepare(state, data, None)  # checks and decodes: 4xx on bad input
            # Only the forward pass holds the model thread; the picture is drawn beside it.
            explanation = await batcher.run_exclusive(lambda: explain_prepared(recognizer, prepared, render=False))
            if format == "png":
                await anyio.to_thread.run_sync(lambda: explanation.png, limiter=state.render_limiter)
            return explanation

        with state.pending.admit(1):  # explain's image counts against the same bound as recognize's
            explanation = await _until_done_or_gone(request, run, state.settings.request_timeout_s)
        if format == "json":
            return JSONResponse({**explanation.to_dict(), "model": recognizer.name})
        return Response(explanation.png, media_type="image/png")


def _uploads(file: UploadFile | None, files: list[UploadFile] | None, max_files: int) -> list[UploadFile]:
    """The uploads of a request that sends one image as ``file`` or several as ``files``."""
    if file is not None and files is not None:
        # Else the reply would be a list starting with `file`, and files[i] in errors off by one.
        raise ServiceError(422, "send one image as 'file' or several as 'files', not both", "file_and_files")
    uploads = [file] if file is not None else (files or [])
    if not uploads:
        raise ServiceError(
            422, "no image: send multipart field 'file' (one image) or 'files' (several)", "missing_file"
        )
    if len(uploads) > max_files:
        raise ServiceError(413, f"{len(uploads)} files, more than the limit of {max_files}", "too_many_files")
    return uploads


async def _read_photo(state: ServiceState, data: bytes, name: str | None, index: int | None) -> Page:
    """Decode (4xx on bad input), detect and read one photo; its lines go through the batcher."""
    assert state.ocr is not None
    ocr = state.ocr
    try:
        image = await anyio.to_thread.run_sync(decode_photo, data, state.limits, limiter=state.decode_limiter)
    except ServiceError as exc:
        if index is not None:
            exc.detail = f"files[{index}]: {exc.detail}"
        raise
    return await anyio.to_thread.run_sync(lambda: ocr.read_images([image], [name])[0], limiter=state.photo_limiter)


async def _prepare(state: ServiceState, data: bytes, index: int | None) -> PreparedImage:
    assert state.recognizer is not None
    try:
        return await anyio.to_thread.run_sync(
            prepare_upload, state.recognizer, data, state.limits, limiter=state.decode_limiter
        )
    except ServiceError as exc:
        if index is not None:
            exc.detail = f"files[{index}]: {exc.detail}"
        raise


async def _until_done_or_gone(request: Request, work: Callable[[], Awaitable[T]], timeout: float) -> T:
    """Run ``work`` unless the client disconnects or time runs out; either way its queued items are withdrawn."""
    task = asyncio.ensure_future(work())
    gone = asyncio.ensure_future(_wait_for_disconnect(request))
    try:
        done, _ = await asyncio.wait({task, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not task.done():
            task.cancel()
    if task in done:
        return task.result()
    if gone in done:
        raise ServiceError(CLIENT_CLOSED_REQUEST, "client closed the request", "disconnected")
    raise ServiceError(504, f"not done within {timeout:g} s", "timeout")


async def _wait_for_disconnect(request: Request) -> None:
    # The body has been read, so the next message is the disconnect (or never comes).
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _add_exception_handlers(app: FastAPI, metrics: ServiceMetrics) -> None:
    async def service_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        metrics.errors.labels(exc.kind).inc()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        metrics.errors.labels("validation").inc()
        assert isinstance(exc, RequestValidationError)
        return await request_validation_exception_handler(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        metrics.errors.labels(
            "too_large" if isinstance(exc, BodyTooLarge) else f"http_{exc.status_code}"
        ).inc()
        return await http_exception_handler(request, exc)

    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        metrics.errors.labels("internal").inc()
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)
