"""What the LSTM's gates do over an image: ``ocr-lstm explain`` and ``POST /v1/explain``.

:func:`explain_image` reads one crop as the recognizer does, and replays the
CNN's column features through a :class:`~ocr_lstm.model.gate_lstm.GateLSTM`
that shares the recognizer's LSTM weights, recording the four gates of the
last layer for both directions. The text and the per-column readings come from
the recognizer's own (fast) forward pass; the gate LSTM is proven equal to it
(tests/ocr_lstm/model/test_gate_lstm.py), so the gates shown are the ones that
produced the reading.

Output frame ``t`` of the CRNN covers input columns ``4t .. 4t+3`` (the CNN
halves the width twice), so every per-frame quantity is drawn under the four
pixels it stands for.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from ocr_lstm.charset import BLANK, Charset
from ocr_lstm.decoding import Decoded
from ocr_lstm.model.crnn import CRNN, WIDTH_STRIDE
from ocr_lstm.model.gate_lstm import GateLSTM
from ocr_lstm.preprocessing import ImageInput, to_tensor

if TYPE_CHECKING:
    from ocr_lstm.recognizer import PreparedImage, Recognizer

DIRECTIONS = ("forward", "reverse")
GATES = ("forget", "ignore", "use", "long_term")
GATE_TITLES = {
    "forget": "forget factor f",
    "ignore": "ignore factor i",
    "use": "use gate V",
    "long_term": "long-term memory LTM",
}
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

        Rendered once, by :func:`explain_image` unless told not to, else on first access.
        """
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
    model: CRNN = recognizer.model
    lstm = model.lstm  # a GateLSTM, or the nn.LSTM a checkpoint builds by default
    gate_lstm = lstm if isinstance(lstm, GateLSTM) else GateLSTM.from_lstm(cast(torch.nn.LSTM, lstm), True)
    readings = [_explain_crop(recognizer, gate_lstm, crop) for crop in prepared.crops]
    explanation = max(readings, key=lambda e: e.confidence)
    if render:
        explanation.png  # noqa: B018 (cached_property: renders and keeps the picture)
    return explanation


@torch.inference_mode()
def _explain_crop(recognizer: Recognizer, gate_lstm: GateLSTM, crop: np.ndarray) -> Explanation:
    model: CRNN = recognizer.model
    images, _ = to_tensor([crop])
    images = images.to(recognizer.device)
    if recognizer.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    log_probs = model(images)[:, 0].float().cpu().numpy()
    decoded: Decoded = recognizer.decoder.decode(log_probs)
    records = gate_lstm.trace(model.sequence_features(images)).records[-1]
    gates = tuple(
        DirectionGates(
            direction=name,
            forget=_numpy(record.forget),
            ignore=_numpy(record.ignore),
            use=_numpy(record.use),
            long_term=_numpy(record.long_term),
        )
        for name, record in zip(DIRECTIONS, records)
    )
    return Explanation(
        text=decoded.text,
        confidence=decoded.confidence,
        crop=crop,
        columns=_column_readings(log_probs, recognizer.charset),
        gates=gates,
        layer=gate_lstm.num_layers - 1,
        model=recognizer.name,
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


def render_png(explanation: Explanation, dpi: int = 100) -> bytes:
    """Draw ``explanation`` as a PNG; every row shares the crop's x axis (input pixels).

    Heat maps put hidden units on the y axis, in the same order for the four
    maps of a direction: sorted by mean forget factor, the units that hold on
    to their memory longest at the top.
    """
    # The object-oriented API with an Agg canvas: no pyplot global state, safe in a server thread.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    crop = explanation.crop
    steps = len(explanation.columns)
    # Sizes in inches: about a quarter inch per column, so a character fits under its frame.
    plot_width = float(np.clip(steps * 0.24, 4.5, 20.0))
    image_height = float(np.clip(plot_width * crop.shape[0] / crop.shape[1], 0.5, 1.6))
    heights = [image_height, 0.32, 0.55] + [0.85] * (len(GATES) * len(explanation.gates))
    left, right, top, bottom, colorbar_width = 1.7, 0.9, 0.75, 0.65, 0.12
    figure = Figure(figsize=(left + plot_width + right, top + bottom + sum(heights) * 1.12), dpi=dpi)
    FigureCanvasAgg(figure)
    fig_width, fig_height = figure.get_figwidth(), figure.get_figheight()
    grid = figure.add_gridspec(
        len(heights), 2, height_ratios=heights, width_ratios=[plot_width, colorbar_width],
        left=left / fig_width, right=1 - (right - colorbar_width) / fig_width,
        top=1 - top / fig_height, bottom=bottom / fig_height, hspace=0.35, wspace=0.03,
    )
    first = figure.add_subplot(grid[0, 0])
    axes = [first] + [figure.add_subplot(grid[i, 0], sharex=first) for i in range(1, len(heights))]
    figure.suptitle(
        f"read {explanation.text!r}, confidence {explanation.confidence:.2f}\n"
        f"model {explanation.model}, gates of LSTM layer {explanation.layer + 1}",
        fontsize=11,
    )

    crop_extent = (0, crop.shape[1], crop.shape[0], 0)
    first.imshow(crop, cmap="gray", vmin=0, vmax=255, aspect="auto", extent=crop_extent)
    first.set_yticks([])
    first.set_ylabel("input", rotation=0, ha="right", va="center")
    _draw_chars(axes[1], explanation.columns)
    _draw_probabilities(axes[2], explanation.columns)
    frames_extent = (0, steps * WIDTH_STRIDE)
    row = 3
    for gates in explanation.gates:
        order = np.argsort(-gates.forget.mean(axis=0), kind="stable")
        # A few units can hold far larger memories than the rest; clip them so the others stay visible.
        memory_scale = max(float(np.percentile(np.abs(gates.long_term), 98)), 1e-6)
        arrow = "→" if gates.direction == "forward" else "←"
        axes[row].set_title(f"{gates.direction} direction, reading {arrow}", fontsize=10, loc="left",
                            fontweight="bold")
        for name in GATES:
            values = getattr(gates, name)[:, order].T  # (units, T)
            signed = name == "long_term"
            image = axes[row].imshow(
                values, aspect="auto", interpolation="nearest", extent=(*frames_extent, values.shape[0], 0),
                cmap="RdBu_r" if signed else "viridis",
                vmin=-memory_scale if signed else 0.0, vmax=memory_scale if signed else 1.0,
            )
            axes[row].set_yticks([])
            axes[row].set_ylabel(GATE_TITLES[name], rotation=0, ha="right", va="center", fontsize=9)
            colorbar = figure.colorbar(
                image, cax=figure.add_subplot(grid[row, 1]), extend="both" if signed else "neither"
            )
            colorbar.ax.tick_params(labelsize=7)
            row += 1
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel(
        f"input pixel column (one output frame per {WIDTH_STRIDE} pixels)\n"
        f"heat maps: one row per hidden unit ({explanation.hidden_size}), sorted by mean forget factor",
        fontsize=8,
    )
    first.set_xlim(0, max(crop.shape[1], frames_extent[1]))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _draw_chars(ax: Any, columns: Sequence[ColumnReading]) -> None:
    """The best class per frame; the blank as a faint dot."""
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("best char", rotation=0, ha="right", va="center")
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    for t, column in enumerate(columns):
        x = (t + 0.5) * WIDTH_STRIDE
        if column.char is None:
            ax.text(x, 0.5, "·", ha="center", va="center", color="0.6", fontsize=9)
        else:
            label = "␣" if column.char == " " else column.char
            ax.text(x, 0.5, label, ha="center", va="center", fontsize=10, fontweight="bold")


def _draw_probabilities(ax: Any, columns: Sequence[ColumnReading]) -> None:
    """Bars of the best class's probability; grey for the blank."""
    centers = [(t + 0.5) * WIDTH_STRIDE for t in range(len(columns))]
    colors = ["0.75" if c.char is None else "tab:blue" for c in columns]
    ax.bar(centers, [c.probability for c in columns], width=WIDTH_STRIDE * 0.85, color=colors)
    ax.set_ylim(0, 1)
    ax.set_yticks([0, 1])
    ax.tick_params(labelsize=7)
    ax.set_ylabel("probability", rotation=0, ha="right", va="center")
