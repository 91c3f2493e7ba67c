"""What the LSTM's gates do over an image: ``ocr-lstm explain`` and ``POST /v1/explain``.

:func:`explain_image` reads one image as the recognizer does (its prepared crops, its
runner, its decoder, the most confident turn of a tall crop), then records the four gates of
the last LSTM layer over the crop it kept, for both directions. With ONNX Runtime (the CPU's
default) the checkpoint's export gives the layer's input and weights and numpy replays the
layer (:mod:`ocr_lstm.recognition.runtime.onnx_gates`), so torch is never imported; with PyTorch the CNN's
column features go through a :class:`~ocr_lstm.model.gate_lstm.GateLSTM` that shares the
recognizer's LSTM weights. The gate LSTM is proven equal to torch's
(tests/ocr_lstm/model/test_gate_lstm.py) and the replay to the gate LSTM
(tests/ocr_lstm/recognition/runtime/test_onnx_gates.py), so the gates are the ones behind the reading.

Output frame ``t`` of the CRNN covers crop columns ``4t .. 4t+3`` (the CNN halves the
width twice); the crop is the user's image resized to 32 pixels high, so frame ``t``
covers :meth:`Explanation.frame_edges` ``[t] .. [t + 1]`` of the user's image. This module
only traces; :mod:`ocr_lstm.viz.explain_picture` draws the picture (matplotlib, the ``viz``
extra), when :attr:`Explanation.png` is first read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ocr_lstm.charset import BLANK, Charset
from ocr_lstm.model.config import WIDTH_STRIDE
from ocr_lstm.preprocessing import ImageInput, PreparedImage, load_image
from ocr_lstm.recognition.decoding import most_confident_turn

if TYPE_CHECKING:
    import torch

    from ocr_lstm.recognition.recognizer import Recognizer

DIRECTIONS = ("forward", "reverse")
GATES = ("forget", "ignore", "use", "long_term")
# to_dict() includes every hidden unit when there are at most this many numbers
# per gate and direction (a 256-pixel-wide crop with 128 hidden units).
FULL_ARRAY_LIMIT = 64 * 128
# How many of the most varying units to_dict() names ("top_units"), for a closer look at single units.
TOP_UNITS = 8
# The turn, in degrees counter-clockwise, of each crop of a tall image, in the order of
# ImagePreparation.prepare: as given, a quarter left (np.rot90 k=1), a quarter right (k=-1).
TURNS = (0, 90, -90)


@dataclass(frozen=True)
class ColumnReading:
    """The most probable class of one output frame; ``char`` is None for the CTC blank."""

    char: str | None
    probability: float


@dataclass(frozen=True, eq=False)
class DirectionGates:
    """One direction of the last LSTM layer; each array is (T, hidden units), in image order.

    In the article's words: ``ignore`` (i_t) and ``candidate`` (N_t) make the learn gate,
    ``forget`` (f_t) the forget gate, ``long_term`` (LTM_t) is what the remember gate
    keeps, ``use`` (V_t) the use gate and ``short_term`` (STM_t) its output.
    """

    direction: str
    forget: np.ndarray
    ignore: np.ndarray
    use: np.ndarray
    long_term: np.ndarray
    candidate: np.ndarray
    short_term: np.ndarray

    def varying_units(self) -> np.ndarray:
        """Every unit's index, the units whose gates vary most along the word first.

        A unit's score is the sum of the standard deviations over frames of its i_t, f_t and V_t
        and of tanh(LTM_t), the memory as the use gate shows it: the long-term memory itself is
        unbounded, and a few units holding large constant memories would otherwise come first.
        """
        score = (
            self.ignore.std(axis=0) + self.forget.std(axis=0) + self.use.std(axis=0)
            + np.tanh(self.long_term).std(axis=0)
        )
        return np.argsort(-score, kind="stable")

    def summary(self) -> dict[str, Any]:
        """Per frame, the mean over hidden units (of absolute values for the signed memories), and
        the :data:`TOP_UNITS` most varying units."""
        return {
            "forget_mean": _rounded(self.forget.mean(axis=1)),
            "ignore_mean": _rounded(self.ignore.mean(axis=1)),
            "use_mean": _rounded(self.use.mean(axis=1)),
            "long_term_abs_mean": _rounded(np.abs(self.long_term).mean(axis=1)),
            "learned_abs_mean": _rounded(np.abs(self.candidate * self.ignore).mean(axis=1)),
            "short_term_abs_mean": _rounded(np.abs(self.short_term).mean(axis=1)),
            "top_units": self.varying_units()[:TOP_UNITS].tolist(),
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
    # The user's image as the model read it (turned by ``turned``), RGB or grayscale; None when
    # only the crop is known, which then stands for it.
    image: np.ndarray | None = None
    turned: int = 0  # degrees counter-clockwise the user's image was turned to be read

    @cached_property
    def png(self) -> bytes:
        """The picture: the image, best character and probability per frame, the four gates per direction.

        Rendered once, by :func:`explain_image` unless told not to, else on first access;
        it needs matplotlib (``pip install 'ocr-lstm[viz]'``).
        """
        from ocr_lstm.viz.explain_picture import render_png

        return render_png(self)

    @property
    def hidden_size(self) -> int:
        return int(self.gates[0].forget.shape[1])

    @property
    def read_image(self) -> np.ndarray:
        """The image whose columns the frames cover: the user's image as read, else the crop."""
        return self.crop if self.image is None else self.image

    def frame_edges(self) -> np.ndarray:
        """The T + 1 x positions, in pixels of :attr:`read_image`, between which each frame lies.

        The crop is the image resized to the model's height with its whole width stretched onto
        a multiple of 4 columns, so the frames split the image's width evenly.
        """
        steps = len(self.columns)
        pixels_per_crop_column = self.read_image.shape[1] / self.crop.shape[1]
        return np.arange(steps + 1) * WIDTH_STRIDE * pixels_per_crop_column

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
        height, width = self.read_image.shape[:2]
        if self.turned:  # the size of the image as the user gave it
            height, width = width, height
        edges = np.round(self.frame_edges(), 2).tolist()
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "model": self.model,
            "image": {"width": int(width), "height": int(height), "turned": self.turned},
            "input": {"height": int(self.crop.shape[0]), "width": int(self.crop.shape[1])},
            "pixels_per_column": WIDTH_STRIDE,
            "columns": [
                {"char": c.char, "probability": round(c.probability, 4), "x0": edges[t], "x1": edges[t + 1]}
                for t, c in enumerate(self.columns)
            ],
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
    rgb = load_image(image, recognizer.preprocess.max_pixels)  # decoded once, kept for the picture
    return explain_prepared(recognizer, recognizer.prepare(rgb), render, image=rgb)


def explain_prepared(
    recognizer: Recognizer, prepared: PreparedImage, render: bool = True, image: np.ndarray | None = None
) -> Explanation:
    """:func:`explain_image` for an image already through :meth:`Recognizer.prepare`; ``image`` is
    that image as decoded (before any turn), for the picture and the frames' positions in it."""
    frames = recognizer.frame_log_probs(prepared.crops)
    readings = [recognizer.decoder.decode(log_probs) for log_probs in frames]
    kept = most_confident_turn(readings)
    turned = TURNS[kept] if len(prepared.crops) > 1 else 0
    explanation = Explanation(
        text=readings[kept].text,
        confidence=readings[kept].confidence,
        crop=prepared.crops[kept],
        columns=_column_readings(frames[kept], recognizer.charset),
        gates=_last_layer_gates(recognizer, prepared.crops[kept]),
        layer=recognizer.info.model_config.lstm_layers - 1,
        model=recognizer.name,
        image=None if image is None else np.rot90(image, turned // 90),
        turned=turned,
    )
    if render:
        explanation.png  # noqa: B018 (cached_property: renders and keeps the picture)
    return explanation


def _last_layer_gates(recognizer: Recognizer, crop: np.ndarray) -> tuple[DirectionGates, ...]:
    """The gates of the last LSTM layer over ``crop``: replayed from the checkpoint's ONNX export when
    ONNX Runtime reads (no torch), else traced through the recognizer's torch model."""
    if recognizer.backend == "onnx" and recognizer.info.weights_path is not None:
        from ocr_lstm.recognition.runtime.onnx_cache import cached_onnx
        from ocr_lstm.recognition.runtime.onnx_gates import gates_graph, replay_last_layer

        graph = gates_graph(cached_onnx(recognizer.info).ragged)
        replayed = replay_last_layer(graph, crop, recognizer.options.threads)
        return tuple(
            DirectionGates(direction=name, **gates._asdict()) for name, gates in zip(DIRECTIONS, replayed)
        )
    return _traced_gates(recognizer, crop)


def _traced_gates(recognizer: Recognizer, crop: np.ndarray) -> tuple[DirectionGates, ...]:
    """The gates from the recognizer's torch model (whichever runner reads), its LSTM turned into a
    GateLSTM that shares the weights."""
    import torch

    from ocr_lstm.model.gate_lstm import GateLSTM
    from ocr_lstm.preprocessing import to_tensor

    model = recognizer.model
    lstm = model.lstm  # a GateLSTM, or the nn.LSTM a checkpoint builds by default
    gate_lstm = lstm if isinstance(lstm, GateLSTM) else GateLSTM.from_lstm(cast(torch.nn.LSTM, lstm), True)
    images, _ = to_tensor([crop])
    images = images.to(recognizer.device)
    if recognizer.options.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        records = gate_lstm.trace(model.sequence_features(images)).records[-1]
    return tuple(
        DirectionGates(
            direction=name,
            forget=_numpy(record.forget),
            ignore=_numpy(record.ignore),
            use=_numpy(record.use),
            long_term=_numpy(record.long_term),
            candidate=_numpy(record.candidate),
            short_term=_numpy(record.short_term),
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
