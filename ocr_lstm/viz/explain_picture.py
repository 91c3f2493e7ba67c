"""The picture of an :class:`ocr_lstm.explain.Explanation`: the crop, the best character and its
probability per column, and heat maps of the last LSTM layer's gates (``ocr-lstm explain``,
``POST /v1/explain?format=png``).

matplotlib, the ``viz`` extra, is imported when a picture is drawn, never by importing this.
The explanation is described by the protocols below rather than imported, because its ``png``
property is what calls :func:`render_png`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ocr_lstm.errors import require
from ocr_lstm.model.config import WIDTH_STRIDE

# The gates drawn, in the order of the rows: an explanation's gate arrays of these names.
GATE_TITLES = {
    "forget": "forget factor f",
    "ignore": "ignore factor i",
    "use": "use gate V",
    "long_term": "long-term memory LTM",
}


class _Column(Protocol):
    @property
    def char(self) -> str | None: ...  # None for the CTC blank
    @property
    def probability(self) -> float: ...


class _Direction(Protocol):
    """One direction's gates, each (T, hidden units), by the names of :data:`GATE_TITLES`."""

    @property
    def direction(self) -> str: ...
    @property
    def forget(self) -> np.ndarray: ...
    @property
    def ignore(self) -> np.ndarray: ...
    @property
    def use(self) -> np.ndarray: ...
    @property
    def long_term(self) -> np.ndarray: ...


class Traced(Protocol):
    """What the picture shows of an explanation."""

    @property
    def text(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def crop(self) -> np.ndarray: ...
    @property
    def columns(self) -> Sequence[_Column]: ...
    @property
    def gates(self) -> Sequence[_Direction]: ...
    @property
    def layer(self) -> int: ...
    @property
    def model(self) -> str: ...
    @property
    def hidden_size(self) -> int: ...


def render_png(explanation: Traced, dpi: int = 100) -> bytes:
    """Draw ``explanation`` as a PNG; every row shares the crop's x axis (input pixels).

    Heat maps put hidden units on the y axis, in the same order for the four
    maps of a direction: sorted by mean forget factor, the units that hold on
    to their memory longest at the top.
    """
    require("matplotlib", "viz")
    # The object-oriented API with an Agg canvas: no pyplot global state, safe in a server thread.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    crop = explanation.crop
    steps = len(explanation.columns)
    # Sizes in inches: about a quarter inch per column, so a character fits under its frame.
    plot_width = float(np.clip(steps * 0.24, 4.5, 20.0))
    image_height = float(np.clip(plot_width * crop.shape[0] / crop.shape[1], 0.5, 1.6))
    heights = [image_height, 0.32, 0.55] + [0.85] * (len(GATE_TITLES) * len(explanation.gates))
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
        for name, title in GATE_TITLES.items():
            values = getattr(gates, name)[:, order].T  # (units, T)
            signed = name == "long_term"
            image = axes[row].imshow(
                values, aspect="auto", interpolation="nearest", extent=(*frames_extent, values.shape[0], 0),
                cmap="RdBu_r" if signed else "viridis",
                vmin=-memory_scale if signed else 0.0, vmax=memory_scale if signed else 1.0,
            )
            axes[row].set_yticks([])
            axes[row].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
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


def _draw_chars(ax: Any, columns: Sequence[_Column]) -> None:
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


def _draw_probabilities(ax: Any, columns: Sequence[_Column]) -> None:
    """Bars of the best class's probability; grey for the blank."""
    centers = [(t + 0.5) * WIDTH_STRIDE for t in range(len(columns))]
    colors = ["0.75" if c.char is None else "tab:blue" for c in columns]
    ax.bar(centers, [c.probability for c in columns], width=WIDTH_STRIDE * 0.85, color=colors)
    ax.set_ylim(0, 1)
    ax.set_yticks([0, 1])
    ax.tick_params(labelsize=7)
    ax.set_ylabel("probability", rotation=0, ha="right", va="center")
