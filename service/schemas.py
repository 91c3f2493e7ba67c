"""What the API returns, as pydantic models (they also make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CharOut(BaseModel):
    char: str
    confidence: float = Field(ge=0, le=1)


class RecognitionOut(BaseModel):
    text: str = Field(description="the text read from the image")
    confidence: float = Field(ge=0, le=1, description="confidence of the whole reading")
    chars: list[CharOut] = Field(description="each character with its confidence")
    model: str = Field(description="name of the model that read it")
    elapsed_ms: float = Field(description="server time for the request: decoding, queueing, inference")


class ModelInfo(BaseModel):
    name: str
    charset: str = Field(description="the characters the model can read")
    input_height: int
    parameters: int
    device: str
    architecture: dict[str, Any]
    metadata: dict[str, Any]
    max_batch_size: int = Field(description="micro-batching: images per model call")
    max_wait_ms: float = Field(description="micro-batching: how long a batch waits for more images")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    model: str


class ErrorOut(BaseModel):
    detail: Any = Field(description="what was wrong with the request")


Polygon = list[list[float]]


class WordOut(BaseModel):
    text: str
    confidence: float = Field(ge=0, le=1, description="the product of its characters' confidences")
    polygon: Polygon = Field(description="[x, y] points in the photo's pixels, clockwise from the text's top left")
    chars: list[CharOut]


class LineOut(BaseModel):
    text: str = Field(description="the words joined by single spaces")
    confidence: float = Field(ge=0, le=1)
    detection_score: float = Field(ge=0, le=1, description="the detector's mean text probability in the line")
    polygon: Polygon
    words: list[WordOut]


class BlockOut(BaseModel):
    text: str = Field(description="the lines joined by newlines")
    polygon: Polygon
    lines: list[LineOut]


class PageOut(BaseModel):
    source: str | None = Field(description="the uploaded file's name")
    width: int
    height: int
    text: str = Field(description="the blocks in reading order, separated by blank lines")
    blocks: list[BlockOut] = Field(description="top to bottom, left to right")
    model: str = Field(description="name of the recognition model")
    elapsed_ms: float = Field(description="server time for the request")
