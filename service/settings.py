"""Service configuration, read from ``OCR_LSTM_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ocr_lstm.predictors import DEFAULT_MODEL, DetectorConfig, OCRConfig, RecognizerOptions

MiB = 1024 * 1024


def _recognizer_option(name: str, **constraints: Any) -> Any:
    """A setting that is a Recognizer option: its default and help are RecognizerOptions'."""
    option = RecognizerOptions.option(name)
    return Field(option.default, description=option.metadata["help"], **constraints)


class ServiceSettings(BaseSettings):
    """Every knob of the REST service; ``docs/service.md`` documents each one."""

    model_config = SettingsConfigDict(env_prefix="OCR_LSTM_", env_file=".env", extra="ignore", frozen=True)

    model: str = Field(DEFAULT_MODEL, description="checkpoint path or bundled model name")
    device: str = _recognizer_option("device")
    threads: int | None = _recognizer_option("threads", ge=1)
    decoding: Literal["greedy", "beam"] = _recognizer_option("decoding")
    word_prior: bool = _recognizer_option("word_prior")
    backend: Literal["auto", "torch", "onnx"] = _recognizer_option("backend")

    # One micro-batch is one forward pass: the Recognizer's batch size.
    max_batch_size: int = Field(
        RecognizerOptions.batch_size, ge=1, le=1024, description="images per model call; 1 turns micro-batching off"
    )
    max_wait_ms: float = Field(5.0, ge=0, le=1000, description="how long a batch waits for more images")

    detector_max_side: int = Field(
        DetectorConfig.max_side, ge=32, description="/v1/ocr: photos are scaled to this longer side for text "
        "detection (lines are cut from the full photo)"
    )
    detector_memory_arena: bool = Field(
        False, description="/v1/ocr: ONNX Runtime's memory arena for the text detector and the line classifier: "
        "about 15 % faster detection, but the memory of the largest photo stays held after a load"
    )
    min_confidence: float = Field(
        OCRConfig.min_confidence, ge=0, le=1, description="/v1/ocr: words read with a lower confidence are left "
        f"out (one- and two-character words need {OCRConfig.short_word_confidence}; 0 keeps every word); a "
        "request's min_confidence parameter overrides it"
    )

    # A 48 Mpx phone photo is a 10-25 MB JPEG.
    max_upload_bytes: int = Field(32 * MiB, ge=1, description="largest request body; larger ones get 413")
    max_pixels: int = Field(
        OCRConfig.max_photo_pixels, ge=1, description="/v1/ocr: largest photo (width x height); larger ones get "
        "413. A photo past OCR_LSTM_PHOTO_READ_PIXELS is decoded that large, and counts that much"
    )
    photo_read_pixels: int = Field(
        OCRConfig.read_pixels, ge=1, description="/v1/ocr: a larger photo is decoded at most this large (JPEG's "
        "DCT scaling: fast and small) and its page given in the photo's own pixels"
    )
    # A word crop is small: 4 Mpx is a 2000 x 2000 image, far more than the 32-px-high crop the model
    # reads, and a sixth of a photo's decoding cost at the photo limit.
    max_crop_pixels: int = Field(
        4_000_000, ge=1, description="/v1/recognize and /v1/explain: largest word image (width x height); "
        "larger ones get 413"
    )
    max_request_pixels: int = Field(
        25_000_000, ge=1, description="all the images of one request together (width x height); more get 413"
    )
    max_aspect_ratio: float = Field(100.0, ge=1, description="longest side / shortest side; beyond it 422")
    max_files: int = Field(16, ge=1, description="images per request; more get 413")
    request_timeout_s: float = Field(30.0, gt=0, description="decoding + queueing + inference; beyond it 504")
    # 256 = eight full default batches: an estimated 14-18 s of work for the bundled model on two busy
    # cores (docs/service.md), inside the 30 s timeout, so an admitted request is answered rather
    # than queued towards a 504.
    max_pending: int = Field(
        256,
        ge=1,
        description="images accepted by /v1/recognize, /v1/ocr and /v1/explain and not yet answered; a request "
        "that would pass it gets 503",
    )
    # Each kind of image has its own pixel budget, so that a flood of one kind is refused while the others
    # are served. Four requests at the per-request limit: no one request holds more than a quarter of one.
    max_pending_pixels: int = Field(
        100_000_000, ge=1, description="/v1/recognize and /v1/explain: pixels of the word images (up to "
        "large_crop_pixels each) accepted and not yet answered; a request that would pass it gets 503"
    )
    # A word crop of 1 Mpx (2000 x 500) is already far larger than any the model needs.
    large_crop_pixels: int = Field(
        1_000_000, ge=1, description="/v1/recognize and /v1/explain: word images over this (width x height) are "
        "large: decoded on a thread of their own, their pixels counted in max_pending_large_pixels"
    )
    max_pending_large_pixels: int = Field(
        50_000_000, ge=1, description="/v1/recognize and /v1/explain: pixels of the large word images accepted "
        "and not yet answered; a request that would pass it gets 503"
    )
    max_pending_photo_pixels: int = Field(
        100_000_000, ge=1, description="/v1/ocr: pixels of the photos accepted and not yet answered; a request "
        "that would pass it gets 503"
    )
    # A page of text has some 50 lines; 256 is a page of small print, or of words set apart (a form, a table).
    max_photo_lines: int = Field(
        256, ge=1, description="/v1/ocr: text lines read per photo, the first in reading order; the answer says "
        "how many more were found"
    )
    # Four photos at the cap: about 5 s of line reading for the bundled model on two busy cores.
    max_pending_lines: int = Field(
        1024, ge=1, description="/v1/ocr: text lines of photos accepted and not yet answered; a request that "
        "would pass it gets 503 (413 for one whose photos have more)"
    )
    max_explains: int = Field(
        2, ge=1, description="/v1/explain requests in flight at once; more get 503 before their body is read"
    )

    header_timeout_s: float = Field(
        10.0, gt=0, description="a connection's request headers must arrive within this; else it is closed"
    )
    body_timeout_s: float = Field(
        30.0, gt=0, description="a request body must arrive within this of its headers; else 408, connection closed"
    )
    # A client on a slow mobile uplink sends some tens of kB/s; a stalled upload sends nothing.
    min_body_rate: int = Field(
        4096, ge=0, description="a request body must arrive at this many bytes/s on average once body_grace_s "
        "has passed since its headers; else 408 (0: no minimum)"
    )
    body_grace_s: float = Field(2.0, ge=0, description="how long a request body may take to start arriving")
    keep_alive_s: int = Field(5, ge=1, description="an idle keep-alive connection is closed after this")
    max_connections: int = Field(
        512, ge=1, description="open connections; requests on more get 503 and their connection closed"
    )
    drain_s: float = Field(
        2.0, ge=0, description="on SIGTERM: /readyz answers 503 this long while requests are still served"
    )
    shutdown_timeout_s: int = Field(
        8, ge=0, description="after the drain: how long requests in flight may take to finish"
    )

    trim_memory: bool = Field(
        True, description="give the memory freed by a load back to the system once the work stops (glibc)"
    )

    api_key: SecretStr | None = Field(None, description="when set, /v1/* require it in the X-API-Key header")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated origins allowed by CORS (empty: CORS off)"
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        return None if value == "" else value

    def recognizer_options(self) -> RecognizerOptions:
        """The Recognizer's options from these settings; the rest keep RecognizerOptions' defaults."""
        return RecognizerOptions(
            device=self.device, batch_size=self.max_batch_size, threads=self.threads, decoding=self.decoding,
            word_prior=self.word_prior, backend=self.backend,
        )

    @model_validator(mode="after")
    def _one_request_fits_in_the_queue(self) -> ServiceSettings:
        # Otherwise a request with max_files images would be refused even by an idle server.
        if self.max_pending < self.max_files:
            raise ValueError(
                f"OCR_LSTM_MAX_PENDING ({self.max_pending}) must be at least "
                f"OCR_LSTM_MAX_FILES ({self.max_files})"
            )
        for name in ("max_pending_pixels", "max_pending_large_pixels", "max_pending_photo_pixels"):
            if getattr(self, name) < self.max_request_pixels:
                raise ValueError(
                    f"OCR_LSTM_{name.upper()} ({getattr(self, name)}) must be at least "
                    f"OCR_LSTM_MAX_REQUEST_PIXELS ({self.max_request_pixels})"
                )
        if self.max_pending_lines < self.max_photo_lines:
            raise ValueError(
                f"OCR_LSTM_MAX_PENDING_LINES ({self.max_pending_lines}) must be at least "
                f"OCR_LSTM_MAX_PHOTO_LINES ({self.max_photo_lines})"
            )
        return self


def read_settings() -> ServiceSettings:
    """The settings from the environment; a bad value is a one-line ``ValueError`` naming its variable.

    pydantic's own message takes three lines per error, too many for a command's ``error:`` line.
    """
    try:
        return ServiceSettings()
    except ValidationError as exc:
        raise ValueError(first_error(exc)) from None


def first_error(exc: ValidationError) -> str:
    """The first of ``exc``'s errors in one line, as ``OCR_LSTM_NAME='value': what is wrong``."""
    error = exc.errors(include_url=False)[0]
    message = " ".join(str(error["msg"]).split())
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if not error["loc"]:  # a check across fields names its variables itself
        return f"{message.removeprefix('Value error, ')}{more}"
    field_name = str(error["loc"][0])
    variable = f"{ServiceSettings.model_config['env_prefix']}{field_name.upper()}"
    shown = "" if field_name == "api_key" else f"={error['input']!r}"
    return f"{variable}{shown}: {message}{more}"
