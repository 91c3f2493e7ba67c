"""What the API returns, as pydantic models and typed dicts (they also make the OpenAPI schema).

A reading's JSON is the library's (:mod:`ocr_lstm.elements`): the answers extend its types with what
the service adds, and the routes return through them, so an answer cannot drift from the document.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ocr_lstm.io import PageJSON, RecognitionJSON


class RecognitionOut(RecognitionJSON):
    """A word image's reading: its text, the confidence of the whole reading in [0, 1], each character with
    its confidence, the model that read it and the server's time for the request."""

    model: Annotated[str, Field(description="name of the model that read it")]
    elapsed_ms: Annotated[float, Field(description="server time for the request: decoding, queueing, inference")]


class ModelInfo(BaseModel):
    name: str
    charset: str = Field(description="the characters the model can read")
    input_height: int
    parameters: int
    device: str
    architecture: dict[str, Any]
    metadata: dict[str, Any] = Field(description="what training measured (numbers), without its paths")
    figures: dict[str, Any] = Field(
        description="what this model scored, as its checkpoint records it: `evaluation` (benchmarks run on the "
        "finished model, with the command) and `validation` (the trainer's word accuracy per set, at the saved step)"
    )
    max_batch_size: int = Field(description="micro-batching: images per model call")
    max_wait_ms: float = Field(description="micro-batching: how long a batch waits for more images")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    model: str


class ErrorOut(BaseModel):
    detail: Any = Field(description="what was wrong with the request")


class PageOut(PageJSON):
    """A photo's reading (blocks of lines of words, each with its polygon in the photo's pixels), and what
    the service adds: the lines found and skipped, the model and the time."""

    lines_detected: Annotated[int, Field(description="text lines the detector found in the photo")]
    lines_skipped: Annotated[int, Field(
        description="of those, the lines not read: past OCR_LSTM_MAX_PHOTO_LINES, the last in reading order "
        "(also in the OCR-Lines-Skipped header, one count per page, for hOCR)"
    )]
    model: Annotated[str, Field(description="name of the recognition model")]
    elapsed_ms: Annotated[float, Field(description="server time for the request")]


class _Strict(BaseModel):
    # Every key of the explanation is documented here; the tests validate real answers against these.
    model_config = ConfigDict(extra="forbid")


class ExplainImageOut(_Strict):
    width: int = Field(description="the uploaded image's width, in pixels")
    height: int = Field(description="the uploaded image's height, in pixels")
    turned: Literal[0, 90, -90] = Field(
        description="degrees counter-clockwise the image was turned to be read (a tall crop is read turned "
        "both ways); the columns' x0 and x1 are along the width of the image so turned"
    )


class ExplainInputOut(_Strict):
    height: int = Field(description="the crop the model read: the image resized to the model's input height")
    width: int


class ExplainColumnOut(_Strict):
    char: str | None = Field(description="the frame's most probable character; null for the CTC blank (no character)")
    probability: float = Field(ge=0, le=1, description="that class's probability")
    x0: float = Field(description="where the frame starts, in pixels of the image (x, or along the width when turned)")
    x1: float = Field(description="where it ends; the frames tile the image's width")


class ExplainLSTMOut(_Strict):
    layer: int = Field(description="index of the LSTM layer whose gates these are (the last)")
    hidden_size: int = Field(description="hidden units per direction")
    units_included: bool = Field(description="whether each direction has its `units` arrays")


class ExplainUnitsOut(_Strict):
    forget: list[list[float]] = Field(description="f_t of every unit, (frames x units)")
    ignore: list[list[float]] = Field(description="i_t of every unit")
    use: list[list[float]] = Field(description="V_t of every unit")
    long_term: list[list[float]] = Field(description="LTM_t of every unit (signed)")


class ExplainDirectionOut(_Strict):
    """Per frame, in image order, the mean over the hidden units of one direction of the last layer."""

    ignore_mean: list[float] = Field(description="learn gate: ignore factor i_t (1 = the candidate is learned)")
    learned_abs_mean: list[float] = Field(description="learn gate: |N_t · i_t|, how much new memory is learned")
    forget_mean: list[float] = Field(description="forget gate: forget factor f_t (1 = the memory is kept)")
    long_term_abs_mean: list[float] = Field(description="remember gate: |LTM_t|, the new long-term memory")
    use_mean: list[float] = Field(description="use gate: V_t (1 = the memory is shown as the output)")
    short_term_abs_mean: list[float] = Field(description="use gate: |STM_t|, the output")
    top_units: list[int] = Field(description="the units whose gates vary most along the word, most first")
    units: ExplainUnitsOut | None = Field(None, description="every unit's values, when `units_included`")


class ExplainDirectionsOut(_Strict):
    forward: ExplainDirectionOut = Field(description="the direction that reads left to right")
    reverse: ExplainDirectionOut = Field(description="the direction that reads right to left")


class ExplainOut(_Strict):
    text: str = Field(description="the text read, as /v1/recognize reads it")
    confidence: float = Field(ge=0, le=1)
    model: str
    image: ExplainImageOut
    input: ExplainInputOut
    pixels_per_column: int = Field(description="crop columns per output frame")
    columns: list[ExplainColumnOut] = Field(description="one per output frame, left to right")
    lstm: ExplainLSTMOut
    directions: ExplainDirectionsOut
