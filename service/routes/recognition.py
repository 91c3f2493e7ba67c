"""The /v1 routes: word images, whole photos and the gates' explanation through the micro-batcher, and the model.

Each upload request was let in at the door (``AdmissionMiddleware``); once its images'
headers are read, it takes its real room (``_admit``) before any pixel is decoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import anyio
import numpy as np
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from ocr_lstm.elements import Page, Recognition
from ocr_lstm.recognizer import PreparedImage
from service.admission import Ticket
from service.errors import ServiceError
from service.images import ImageLimits, count_pixels, decode_upload, prepare_upload
from service.routes.responses import NOT_READY, upload_errors
from service.schemas import ExplainOut, ModelInfo, PageOut, RecognitionOut
from service.state import Admitted, ServiceState, State

if TYPE_CHECKING:
    from ocr_lstm.explain import Explanation

T = TypeVar("T")

CLIENT_CLOSED_REQUEST = 499  # nginx's status for a client that went away; nobody reads it
RECOGNIZE, OCR, EXPLAIN = "/v1/recognize", "/v1/ocr", "/v1/explain"
UPLOAD_PATHS = frozenset({RECOGNIZE, OCR, EXPLAIN})  # admitted at the door

ONE_OR_SEVERAL = (
    "no file, both `file` and `files`, or an empty, truncated, corrupt, zero-sized or absurdly shaped image"
)

router = APIRouter(tags=["recognition"])


@router.get("/v1/model", response_model=ModelInfo, summary="the loaded model", responses=NOT_READY)
async def model_info(state: State) -> ModelInfo:
    assert state.recognizer is not None
    described = state.recognizer.describe()
    return ModelInfo(
        **{**described, "metadata": public_metadata(described["metadata"])},
        max_batch_size=state.settings.max_batch_size,
        max_wait_ms=state.settings.max_wait_ms,
    )


def public_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """What training measured (numbers), without its configuration: that names the data's and runs' paths."""
    return {
        key: value
        for key, value in metadata.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


@router.post(
    RECOGNIZE,
    response_model=RecognitionOut | list[RecognitionOut],
    summary="read the text of word images",
    description="Send one image as multipart field `file` to get one result, or several as `files` "
    "to get a list in the same order (not both). The image type is sniffed from the content.",
    responses=upload_errors(ONE_OR_SEVERAL),
)
async def recognize(
    request: Request,
    state: State,
    ticket: Admitted,
    file: Annotated[UploadFile | None, File(description="one image")] = None,
    files: Annotated[list[UploadFile] | None, File(description="several images")] = None,
) -> RecognitionOut | list[RecognitionOut]:
    started = time.perf_counter()
    uploads = _uploads(file, files, state.settings.max_files)
    several = files is not None
    contents = [await upload.read() for upload in uploads]
    assert state.batcher is not None and state.recognizer is not None
    batcher = state.batcher

    async def read_all() -> list[Recognition]:
        with batcher.expecting(len(contents)):
            await _admit(state, ticket, contents, state.crop_limits, several)
            prepared = await asyncio.gather(
                *(_prepare(state, data, index if several else None) for index, data in enumerate(contents))
            )
        return [r for r in await batcher.submit(prepared) if isinstance(r, Recognition)]

    recognitions = await _until_done_or_gone(request, read_all, state.settings.request_timeout_s)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    results = [
        RecognitionOut(**r.as_dict(), model=state.recognizer.name, elapsed_ms=elapsed_ms) for r in recognitions
    ]
    state.metrics.images.inc(len(results))
    return results if several else results[0]


@router.post(
    OCR,
    response_model=PageOut | list[PageOut],
    summary="read whole photos: the text with a polygon for every word",
    description="Send one photo as multipart field `file` to get one page, or several as `files` to get a "
    "list in the same order (not both). Text lines are detected, read whole and split into words; "
    "`format=hocr` returns an hOCR document instead of JSON.",
    responses={**upload_errors(ONE_OR_SEVERAL), 200: {"content": {"application/json": {}, "text/html": {}}}},
)
async def ocr(
    request: Request,
    state: State,
    ticket: Admitted,
    file: Annotated[UploadFile | None, File(description="one photo")] = None,
    files: Annotated[list[UploadFile] | None, File(description="several photos")] = None,
    format: Annotated[Literal["json", "hocr"], Query(description="json pages or an hOCR document")] = "json",
) -> Response:
    started = time.perf_counter()
    uploads = _uploads(file, files, state.settings.max_files)
    several = files is not None
    contents = [await upload.read() for upload in uploads]

    async def read_all() -> list[Page]:
        await _admit(state, ticket, contents, state.photo_limits, several)
        return list(
            await asyncio.gather(
                *(
                    _read_photo(state, data, upload.filename, index if several else None)
                    for index, (data, upload) in enumerate(zip(contents, uploads))
                )
            )
        )

    pages = await _until_done_or_gone(request, read_all, state.settings.request_timeout_s)
    state.metrics.images.inc(len(pages))
    if format == "hocr":
        from ocr_lstm.exports import to_hocr

        return Response(to_hocr(pages), media_type="text/html; charset=utf-8")
    assert state.recognizer is not None
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    out = [{**page.export(), "model": state.recognizer.name, "elapsed_ms": elapsed_ms} for page in pages]
    return JSONResponse(out if several else out[0])


@router.post(
    EXPLAIN,
    response_model=ExplainOut,
    summary="what the LSTM's gates do over an image",
    description="A picture (`format=png`) or the numbers (`format=json`) behind one reading: per output frame "
    "the character read there (or the blank), where the frame lies in the image, and the article's four gates "
    "(learn, forget, remember, use) of the last LSTM layer in both directions. At most OCR_LSTM_MAX_EXPLAINS of "
    "these run at once.",
    responses={
        200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
        **upload_errors(
            "no file, or an empty, truncated, corrupt, zero-sized or absurdly shaped image",
            busy=", or OCR_LSTM_MAX_EXPLAINS explain requests are running",
        ),
    },
)
async def explain(
    request: Request,
    state: State,
    ticket: Admitted,
    file: Annotated[UploadFile, File(description="one image")],
    format: Annotated[Literal["png", "json"], Query(description="png picture or json numbers")] = "png",
    units: Annotated[
        bool | None, Query(description="json: every hidden unit's values (default: for crops up to 256 px wide)")
    ] = None,
) -> Response:
    data = await file.read()
    assert state.batcher is not None and state.recognizer is not None
    batcher, recognizer = state.batcher, state.recognizer

    async def run() -> Explanation:
        from ocr_lstm.explain import explain_prepared  # torch: loaded by the first explanation, not at start

        await _admit(state, ticket, [data], state.crop_limits, several=False)

        def decode() -> tuple[PreparedImage, np.ndarray]:
            """Checks and decodes (4xx on bad input), keeping the image to show and map the frames onto."""
            image = decode_upload(data, state.crop_limits)
            return recognizer.prepare(image), image

        prepared, image = await anyio.to_thread.run_sync(decode, limiter=state.decode_limiter)
        # Only the forward pass holds the model thread; the picture is drawn beside it.
        explanation = await batcher.run_exclusive(
            lambda: explain_prepared(recognizer, prepared, render=False, image=image)
        )
        if format == "png":
            await anyio.to_thread.run_sync(lambda: explanation.png, limiter=state.render_limiter)
        return explanation

    with state.explains.take():  # taken once the body is in: a body still arriving holds no slot
        explanation = await _until_done_or_gone(request, run, state.settings.request_timeout_s)
    if format == "json":
        return JSONResponse({**explanation.to_dict(units), "model": recognizer.name})
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


async def _admit(
    state: ServiceState, ticket: Ticket, contents: list[bytes], limits: ImageLimits, several: bool
) -> None:
    """Check every image's header against ``limits`` and the request's pixels against its limit, then
    take the request's room: 413 for a request that could never fit, 503 for one that does not fit now."""

    def measure() -> int:
        total = 0
        for index, data in enumerate(contents):
            with _naming(index if several else None):
                total += count_pixels(data, limits)
        return total

    pixels = await anyio.to_thread.run_sync(measure, limiter=state.decode_limiter)
    limit = state.settings.max_request_pixels
    if pixels > limit:
        raise ServiceError(
            413, f"the images have {pixels} pixels together, more than the limit of {limit}", "too_many_pixels"
        )
    ticket.hold({state.admission.images: len(contents), state.admission.pixels: pixels})


@contextlib.contextmanager
def _naming(index: int | None) -> Iterator[None]:
    """Prefix a refusal with the file it is about (``files[1]: ...``) when a request sends several."""
    try:
        yield
    except ServiceError as exc:
        if index is not None:
            exc.detail = f"files[{index}]: {exc.detail}"
        raise


async def _read_photo(state: ServiceState, data: bytes, name: str | None, index: int | None) -> Page:
    """Decode (4xx on bad input), detect and read one photo; its lines go through the batcher.

    Decoded under the photo limiter, not the crops' decode limiter: a photo can take a second to
    decode, and word images must not wait behind it."""
    assert state.ocr is not None
    ocr = state.ocr

    def read() -> Page:
        with _naming(index):
            image = decode_upload(data, state.photo_limits)
        return ocr.read_images([image], [name])[0]

    return await anyio.to_thread.run_sync(read, limiter=state.photo_limiter)


async def _prepare(state: ServiceState, data: bytes, index: int | None) -> PreparedImage:
    assert state.recognizer is not None
    with _naming(index):
        return await anyio.to_thread.run_sync(
            prepare_upload, state.recognizer, data, state.crop_limits, limiter=state.decode_limiter
        )


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
