"""The /v1 routes: word images, whole photos and the gates' explanation through the micro-batcher, and the model.

Each upload request was let in at the door (``AdmissionMiddleware``); once its images'
headers are read, it takes its real room (``_admit``) before any pixel is decoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Annotated, Any, Literal, TypeVar

import anyio
import numpy as np
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from PIL import Image

from ocr_lstm.io import DecodedPhoto, Page, Recognition, to_hocr
from ocr_lstm.predictors import (
    DetectedLine,
    Explanation,
    PreparedImage,
    confidence_floor,
    explain_prepared,
    to_photo_pixels,
)
from service.admission import Budget, Ticket
from service.errors import ServiceError
from service.images import ImageLimits, decode_photo_upload, decode_upload, open_image, pixels, prepare_upload
from service.model_queue import read_lines
from service.routes.responses import NOT_READY, upload_errors
from service.schemas import ExplainOut, ModelInfo, PageOut, RecognitionOut
from service.state import Admitted, ServiceState, State

T = TypeVar("T")

CLIENT_CLOSED_REQUEST = 499  # nginx's status for a client that went away; nobody reads it
RECOGNIZE, OCR, EXPLAIN = "/v1/recognize", "/v1/ocr", "/v1/explain"
LINES_SKIPPED_HEADER = "OCR-Lines-Skipped"  # per page, comma-separated: its lines past OCR_LSTM_MAX_PHOTO_LINES

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
    assert state.model_queue is not None and state.recognizer is not None
    queue, recognizer = state.model_queue, state.recognizer

    async def read_all() -> list[Recognition]:
        with queue.expecting(len(contents)):
            images = await _admit_words(state, ticket, contents, several)
            prepared = await asyncio.gather(
                *(_prepare(state, image, index if several else None) for index, image in enumerate(images))
            )
        frames = await queue.submit([image.crops for image in prepared])
        # CTC decoding (and the word prior) off the model's thread, which goes on to the next batch.
        return await anyio.to_thread.run_sync(
            lambda: [recognizer.recognition(image) for image in frames], limiter=state.decode_limiter
        )

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
    response: Response,
    state: State,
    ticket: Admitted,
    file: Annotated[UploadFile | None, File(description="one photo")] = None,
    files: Annotated[list[UploadFile] | None, File(description="several photos")] = None,
    format: Annotated[Literal["json", "hocr"], Query(description="json pages or an hOCR document")] = "json",
    min_confidence: Annotated[
        float | None,
        Query(ge=0, le=1, description="leave out words read with a lower confidence (one- and two-character "
              "words need at least 0.97 unless this is 0, which keeps every word); default: OCR_LSTM_MIN_CONFIDENCE"),
    ] = None,
) -> Response | PageOut | list[PageOut]:
    started = time.perf_counter()
    uploads = _uploads(file, files, state.settings.max_files)
    several = files is not None
    contents = [await upload.read() for upload in uploads]

    async def read_all() -> list[tuple[Page, int, int]]:
        images = await _admit(state, ticket, contents, state.photo_limits, several, state.admission.photo_pixels)
        # Room for as many lines as the photos may have, before the costly search for them; what they do have
        # replaces it once they are found.
        settings = state.settings
        _admit_lines(state, ticket, min(len(contents) * settings.max_photo_lines, settings.max_pending_lines))
        found = await asyncio.gather(
            *(_find_lines(state, image, index if several else None) for index, image in enumerate(images))
        )
        kept = [first_lines(lines, state.settings.max_photo_lines) for _, lines in found]
        _admit_lines(state, ticket, sum(len(lines) for lines in kept))
        pages = await asyncio.gather(
            *(
                _read_photo(state, photo, lines, upload.filename, min_confidence)
                for (photo, _), lines, upload in zip(found, kept, uploads)
            )
        )
        detected = [len(lines) for _, lines in found]
        return [(page, count, count - len(lines)) for page, count, lines in zip(pages, detected, kept)]

    read = await _until_done_or_gone(request, read_all, state.settings.request_timeout_s)
    state.metrics.images.inc(len(read))
    skipped = {LINES_SKIPPED_HEADER: ",".join(str(count) for _, _, count in read)}
    if format == "hocr":
        hocr = to_hocr([page for page, _, _ in read])
        return Response(hocr, media_type="text/html; charset=utf-8", headers=skipped)
    assert state.recognizer is not None
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    response.headers.update(skipped)
    pages = [
        PageOut(**page.export(), lines_detected=detected, lines_skipped=count, model=state.recognizer.name,
                elapsed_ms=elapsed_ms)
        for page, detected, count in read
    ]
    return pages if several else pages[0]  # through response_model: the answer is what the schema says


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
    assert state.model_queue is not None and state.recognizer is not None
    queue, recognizer = state.model_queue, state.recognizer

    async def run() -> Explanation:
        (upload,) = await _admit_words(state, ticket, [data], several=False)

        def decode() -> tuple[PreparedImage, np.ndarray]:
            """Decodes (4xx on bad pixels), keeping the image to show and map the frames onto."""
            image = decode_upload(upload, state.crop_limits)
            return recognizer.prepare(image), image

        prepared, image = await anyio.to_thread.run_sync(decode, limiter=_decode_limiter(state, upload))
        # Only the forward pass holds the model thread; the picture is drawn beside it.
        explanation = await queue.run_exclusive(
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
    state: ServiceState, ticket: Ticket, contents: list[bytes], limits: ImageLimits, several: bool, budget: Budget
) -> list[Image.Image]:
    """Check every image's header against ``limits`` and the request's pixels against its limit, then take the
    request's room: its images, and its pixels in ``budget``. 413 for a request that could never fit, 503 for
    one that does not fit now. The images, opened: their headers read, their pixels not yet decoded."""
    images = await _open(state, contents, limits, several)
    ticket.hold({state.admission.images: len(contents), budget: sum(limits.cost(pixels(i)) for i in images)})
    return images


async def _admit_words(
    state: ServiceState, ticket: Ticket, contents: list[bytes], several: bool
) -> list[Image.Image]:
    """As ``_admit`` for word images, whose pixels count in two budgets: those of large images, and the others'."""
    images = await _open(state, contents, state.crop_limits, several)
    counts = [pixels(image) for image in images]
    large = sum(count for count in counts if count > state.settings.large_crop_pixels)
    admission = state.admission
    small = sum(counts) - large
    ticket.hold({admission.images: len(contents), admission.pixels: small, admission.large_pixels: large})
    return images


async def _open(state: ServiceState, contents: list[bytes], limits: ImageLimits, several: bool) -> list[Image.Image]:
    """Each image opened from its header (4xx for one past ``limits``); 413 when together they pass the request's
    limit of pixels, counted as they will be read (at most ``limits.read_pixels`` each)."""

    def open_all() -> list[Image.Image]:
        images = []
        for index, data in enumerate(contents):
            with _naming(index if several else None):
                images.append(open_image(data, limits))
        return images

    images = await anyio.to_thread.run_sync(open_all, limiter=state.decode_limiter)
    total, limit = sum(limits.cost(pixels(image)) for image in images), state.settings.max_request_pixels
    if total > limit:
        raise ServiceError(
            413, f"the images have {total} pixels together, more than the limit of {limit}", "too_many_pixels"
        )
    return images


def _admit_lines(state: ServiceState, ticket: Ticket, lines: int) -> None:
    """Hold room for ``lines`` text lines of a request's photos instead of what it holds: 413 when they could
    never fit, 503 when they do not fit now."""
    limit = state.settings.max_pending_lines
    if lines > limit:
        raise ServiceError(
            413,
            f"the photos have {lines} text lines together (at most {state.settings.max_photo_lines} read per photo), "
            f"more than the {limit} that may be in flight (OCR_LSTM_MAX_PENDING_LINES)",
            "too_many_lines",
        )
    ticket.hold({state.admission.lines: lines})


def _decode_limiter(state: ServiceState, image: Image.Image) -> anyio.CapacityLimiter:
    """The threads that decode a word image: large ones have their own."""
    return state.large_decode_limiter if pixels(image) > state.settings.large_crop_pixels else state.decode_limiter


@contextlib.contextmanager
def _naming(index: int | None) -> Iterator[None]:
    """Prefix a refusal with the file it is about (``files[1]: ...``) when a request sends several."""
    try:
        yield
    except ServiceError as exc:
        if index is not None:
            exc.detail = f"files[{index}]: {exc.detail}"
        raise


async def _find_lines(
    state: ServiceState, image: Image.Image, index: int | None
) -> tuple[DecodedPhoto, list[DetectedLine]]:
    """Decode (4xx on bad input) one photo, at most ``photo_read_pixels`` large, and find its text lines.

    On the photo limiter, not the word images' decode limiter: a photo can take a second to decode and
    detect, and word images must not wait behind it."""
    assert state.detector is not None
    detector = state.detector

    def find() -> tuple[DecodedPhoto, list[DetectedLine]]:
        with _naming(index):
            photo = decode_photo_upload(image, state.photo_limits)
        return photo, detector(photo.image)

    return await anyio.to_thread.run_sync(find, limiter=state.photo_limiter)


async def _read_photo(
    state: ServiceState, photo: DecodedPhoto, lines: list[DetectedLine], name: str | None, min_confidence: float | None
) -> Page:
    """Read the ``lines`` found in one photo, through the model queue; its page in the photo's own pixels.
    ``min_confidence``: this request's confidence floor, when it gives one."""
    assert state.ocr is not None and state.model_queue is not None
    ocr = state.ocr
    if min_confidence is not None:
        ocr = ocr.with_config(confidence_floor(ocr.config, min_confidence))
    height, width = photo.image.shape[:2]
    # The photo's slot is held while its lines are read, model waits included: photos finish in the order
    # they took a slot, and at most that many photos' lines wait in the model queue at once.
    async with state.photo_limiter:
        (read,) = await read_lines(ocr.line_steps([photo.image], [lines]), state.model_queue)
        return await anyio.to_thread.run_sync(lambda: to_photo_pixels(ocr.assemble(read, width, height, name), photo))


async def _prepare(state: ServiceState, image: Image.Image, index: int | None) -> PreparedImage:
    assert state.recognizer is not None
    with _naming(index):
        return await anyio.to_thread.run_sync(
            prepare_upload, state.recognizer, image, state.crop_limits, limiter=_decode_limiter(state, image)
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


def first_lines(lines: Sequence[DetectedLine], cap: int) -> list[DetectedLine]:
    """At most ``cap`` of ``lines``: the first in reading order (top to bottom, then left to right)."""
    if len(lines) <= cap:
        return list(lines)
    return sorted(lines, key=lambda line: (min(y for _, y in line.polygon), min(x for x, _ in line.polygon)))[:cap]
