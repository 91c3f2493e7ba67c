"""What the LSTM's gates do over an image: ``ocr-lstm explain`` and ``POST /v1/explain``.

:func:`explain_image` reads one image as the recognizer does (its prepared crops, its
runner, its decoder, the most confident turn of a tall crop), then replays the CNN's
column features of the crop it kept through a :class:`~ocr_lstm.model.gate_lstm.GateLSTM`
that shares the recognizer's LSTM weights, recording the four gates of the last layer
for both directions. The gate LSTM is proven equal to torch's
(tests/ocr_lstm/model/test_gate_lstm.py), so the gates are the ones behind the reading.

Output frame ``t`` of the CRNN covers input columns ``4t .. 4t+3`` (the CNN halves the
width twice). This module only traces; :mod:`ocr_lstm.viz.explain_picture` draws the
picture (matplotlib, the ``viz`` extra), when :attr:`Explanation.png` is first read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from ocr_lstm.charset import BLANK, Charset
from ocr_lstm.decoding import most_confident_turn
from ocr_lstm.model.config import WIDTH_STRIDE
from ocr_lstm.model.gate_lstm import GateLSTM
from ocr_lstm.preprocessing import ImageInput, PreparedImage, to_tensor

if TYPE_CHECKING:
    from ocr_lstm.recognizer import Recognizer

DIRECTIONS = ("forward", "reverse")
GATES = ("forget", "ignore", "use", "long_term")
# to_dict() includes every hidden unit when there are at most this many numbers
# per gate and direction (a 256-pixel-wide crop with 128 hidden units).
FULL_ARRAY_LIMIT = 64 * 128


@dataclass(frozen=True)
class ColumnReading:
    """The most probable class of one output frame; ``char`` is None for the CTC blank."""

    char: str | None
    probability: float


@dataclass(frozen=True, eq=False)
class DirectionGates:
    """One direction of the last LSTM layer; each array is (T, hidden units)."""

    direction: str
    forget: np.ndarray
    ignore: np.ndarray
    use: np.ndarray
    long_term: np.ndarray

    def summary(self) -> dict[str, list[float]]:
        """Per column, the mean over hidden units (of ``|LTM|`` for the signed memory)."""
        return {
            "forget_mean": _rounded(self.forget.mean(axis=1)),
            "ignore_mean": _rounded(self.ignore.mean(axis=1)),
            "use_mean": _rounded(self.use.mean(axis=1)),
            "long_term_abs_mean": _rounded(np.abs(self.long_term).mean(axis=1)),
        }


@dataclass(frozen=True, eq=False)
class Explanation:
    """A reading with the gates behind it; ``png`` is the picture, ``to_dict()`` the numbers."""

    text: str
    confidence: float
    crop: np.ndarray  # the (32, W) grayscale crop the model read
    columns: tuple[ColumnReading, ...]
    gates: tuple[DirectionGates, ...]
    layer: int  # index of the last LSTM layer, whose gates these are
    model: str = "model"

    @cached_property
    def png(self) -> bytes:
        """The picture: crop, best character and probability per column, gate heat maps.

        Rendered once, by :func:`explain_image` unless told not to, else on first access;
        it needs matplotlib (``pip install 'ocr-lstm[viz]'``).
        """
        from ocr_lstm.viz.explain_picture import render_png

        return render_png(self)

    @property
    def hidden_size(self) -> int:
        return int(self.gates[0].forget.shape[1])

    def to_dict(self, units: bool | None = None) -> dict[str, Any]:
        """JSON-ready numbers. ``units`` adds every hidden unit's value (default: when small)."""
        steps = len(self.columns)
        if units is None:
            units = steps * self.hidden_size <= FULL_ARRAY_LIMIT
        directions: dict[str, Any] = {}
        for gates in self.gates:
            entry: dict[str, Any] = gates.summary()
            if units:
                entry["units"] = {name: _rounded(getattr(gates, name)) for name in GATES}
            directions[gates.direction] = entry
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "model": self.model,
            "input": {"height": int(self.crop.shape[0]), "width": int(self.crop.shape[1])},
            "pixels_per_column": WIDTH_STRIDE,
            "columns": [{"char": c.char, "probability": round(c.probability, 4)} for c in self.columns],
            "lstm": {"layer": self.layer, "hidden_size": self.hidden_size, "units_included": units},
            "directions": directions,
        }


def explain_image(recognizer: Recognizer, image: ImageInput, render: bool = True) -> Explanation:
    """Read ``image`` (a path, bytes, PIL image or array) and record the last layer's gates.

    A tall crop is read turned both ways, as :meth:`Recognizer.recognize` does,
    and the more confident reading is explained. Raises ``ImageDecodeError``
    for unreadable input.

    ``render`` draws the PNG now (about a second on one CPU core), so that a
    server does it in the worker thread that called this; pass False when only
    ``to_dict()`` is wanted.
    """
    return explain_prepared(recognizer, recognizer.prepare(image), render)


def explain_prepared(recognizer: Recognizer, prepared: PreparedImage, render: bool = True) -> Explanation:
    """:func:`explain_image` for an image already through :meth:`Recognizer.prepare`."""
    frames = recognizer.frame_log_probs(prepared.crops)
    readings = [recognizer.decoder.decode(log_probs) for log_probs in frames]
    kept = most_confident_turn(readings)
    explanation = Explanation(
        text=readings[kept].text,
        confidence=readings[kept].confidence,
        crop=prepared.crops[kept],
        columns=_column_readings(frames[kept], recognizer.charset),
        gates=_last_layer_gates(recognizer, prepared.crops[kept]),
        layer=recognizer.model.config.lstm_layers - 1,
        model=recognizer.name,
    )
    if render:
        explanation.png  # noqa: B018 (cached_property: renders and keeps the picture)
    return explanation


@torch.inference_mode()
def _last_layer_gates(recognizer: Recognizer, crop: np.ndarray) -> tuple[DirectionGates, ...]:
    """The gates of the last LSTM layer over ``crop``, from the recognizer's torch model (whichever
    runner reads), its LSTM turned into a GateLSTM that shares the weights."""
    model = recognizer.model
    lstm = model.lstm  # a GateLSTM, or the nn.LSTM a checkpoint builds by default
    gate_lstm = lstm if isinstance(lstm, GateLSTM) else GateLSTM.from_lstm(cast(torch.nn.LSTM, lstm), True)
    images, _ = to_tensor([crop])
    images = images.to(recognizer.device)
    if recognizer.options.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    records = gate_lstm.trace(model.sequence_features(images)).records[-1]
    return tuple(
        DirectionGates(
            direction=name,
            forget=_numpy(record.forget),
            ignore=_numpy(record.ignore),
            use=_numpy(record.use),
            long_term=_numpy(record.long_term),
        )
        for name, record in zip(DIRECTIONS, records)
    )


def _column_readings(log_probs: np.ndarray, charset: Charset) -> tuple[ColumnReading, ...]:
    best = log_probs.argmax(axis=1)
    probabilities = np.exp(log_probs[np.arange(len(best)), best])
    return tuple(
        ColumnReading(None if label == BLANK else charset.symbols[label - 1], float(p))
        for label, p in zip(best.tolist(), probabilities.tolist())
    )


def _numpy(gate: torch.Tensor) -> np.ndarray:
    return gate[:, 0].float().cpu().numpy()


def _rounded(values: np.ndarray) -> list[Any]:
    return np.round(values.astype(np.float64), 4).tolist()
