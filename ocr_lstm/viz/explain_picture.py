"""The picture of an :class:`ocr_lstm.explain.Explanation` (``ocr-lstm explain``, ``POST /v1/explain``),
drawn to be read without the docs: the user's image on top, then what the model read in each
output frame, then for each reading direction the article's four gates (learn, forget, remember,
use) as heat maps, every row on the x axis of the user's image, in its pixels.

matplotlib, the ``viz`` extra, is imported when a picture is drawn, never by importing this.
The explanation is described by the protocols below rather than imported, because its ``png``
property is what calls :func:`render_png`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ocr_lstm.errors import require
from ocr_lstm.model.config import WIDTH_STRIDE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP_UNITS = 8  # the most varying units drawn under each map's mean row (ocr_lstm.explain.TOP_UNITS)
CHAR_COLOR, BLANK_COLOR = "tab:blue", "0.75"
BLANK_MARK = "·"


@dataclass(frozen=True)
class GateRow:
    """One heat map: the explanation's gate array ``name``, in the article's words."""

    name: str
    gate: str  # the article's gate
    caption: str
    ends: tuple[str, str] | None  # what 0 and 1 mean; None for the signed memory


# The article's order: learn, forget, remember, use.
GATE_ROWS = (
    GateRow("ignore", "learn", "learn gate — ignore factor i_t: 1 = the candidate is learned, 0 = ignored",
            ("ignored", "learned")),
    GateRow("forget", "forget", "forget gate — forget factor f_t: 1 = the long-term memory is kept, 0 = forgotten",
            ("forgotten", "kept")),
    GateRow("long_term", "remember", "remember gate — the new long-term memory LTM_t = f_t · LTM_{t-1} + i_t · N_t "
            "(signed: blue < 0 < red)", None),
    GateRow("use", "use", "use gate — V_t: 1 = the memory is shown as the output STM_t, 0 = held back",
            ("held back", "shown")),
)
READING = {"forward": "reads left → right", "reverse": "reads right → left"}


class _Column(Protocol):
    @property
    def char(self) -> str | None: ...  # None for the CTC blank
    @property
    def probability(self) -> float: ...


class _Direction(Protocol):
    """One direction's gates, each (T, hidden units), by the names of :data:`GATE_ROWS`."""

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
    def varying_units(self) -> np.ndarray: ...


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
    @property
    def read_image(self) -> np.ndarray: ...
    @property
    def turned(self) -> int: ...
    def frame_edges(self) -> np.ndarray: ...


def render_png(explanation: Traced, dpi: int = 100) -> bytes:
    """Draw ``explanation`` as a PNG (:func:`draw_figure`) of 256 colours.

    The palette makes the file about a quarter of a true-colour PNG's size (some 70 kB for a
    40-frame word) and is not visible in the picture: flat heat-map cells, text and one photo.
    """
    figure = draw_figure(explanation)  # first: it says how to install matplotlib when it is missing
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    picture = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    buffer = io.BytesIO()
    picture.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(buffer, format="PNG")
    return buffer.getvalue()


def draw_figure(explanation: Traced) -> Figure:
    """The picture as a matplotlib figure; every row shares the x axis of the user's image.

    Each heat map has a first row with the mean over all hidden units, then the :data:`TOP_UNITS`
    units whose gates vary most along the word (``varying_units``), the same units in the same
    order in the four maps of a direction.
    """
    require("matplotlib", "viz")
    # The object-oriented API with an Agg canvas: no pyplot global state, safe in a server thread.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    image = explanation.read_image
    edges = explanation.frame_edges()
    image_width = image.shape[1]
    steps = len(explanation.columns)
    centers = (edges[:-1] + edges[1:]) / 2
    units = min(TOP_UNITS, explanation.hidden_size)

    # Sizes in inches: about a quarter inch per frame, so a character fits over its frame.
    plot_width = float(np.clip(steps * 0.24, 5.0, 20.0))
    image_height = float(np.clip(plot_width * image.shape[0] / image_width, 0.6, 1.4))
    caption, heat_map, gap = 0.24, 0.1 * (units + 1), 0.1
    rows: list[tuple[str, float]] = [("image", image_height), ("chars", 0.32), ("probability", 0.5)]
    for _ in explanation.gates:
        rows += [("direction", 0.3)] + [("gate", caption + heat_map + gap)] * len(GATE_ROWS)
    left, right, top, bottom = 1.5, 1.55, 1.05, 0.8
    height = top + bottom + sum(h for _, h in rows) + 0.12 * 2
    figure = Figure(figsize=(left + plot_width + right, height))
    FigureCanvasAgg(figure)
    fig_width = figure.get_figwidth()

    def place(y: float, h: float, x: float = left, w: float = plot_width) -> tuple[float, float, float, float]:
        """Inches from the top left to the figure's fractions."""
        return (x / fig_width, 1 - (y + h) / height, w / fig_width, h / height)

    turned = f", turned {abs(explanation.turned)}° {'left' if explanation.turned > 0 else 'right'} to be read" if (
        explanation.turned) else ""
    figure.text(0.5, 1 - 0.12 / height, f"read {explanation.text!r}, confidence {explanation.confidence:.2f}",
                ha="center", va="top", fontsize=13, fontweight="bold")
    figure.text(
        0.5, 1 - 0.42 / height,
        f"model {explanation.model} · the gates of its last LSTM layer ({explanation.layer + 1}) · "
        f"one column = one output frame = {edges[1] - edges[0]:.1f} px of your image{turned}\n"
        "Under your image: the character read in each frame, then the article's four gates "
        "(learn, forget, remember, use) for each reading direction.",
        ha="center", va="top", fontsize=9, linespacing=1.5,
    )

    y = top
    first = figure.add_axes(place(y, image_height))
    first.imshow(image, cmap="gray", vmin=0, vmax=255, aspect="auto", extent=(0, image_width, image.shape[0], 0),
                 interpolation="antialiased")
    first.set_yticks([])
    first.set_ylabel("your image", rotation=0, ha="right", va="center", fontsize=10)
    axes = [first]
    y += image_height + 0.06
    chars = figure.add_axes(place(y, 0.32), sharex=first)
    _draw_chars(chars, explanation.columns, centers)
    axes.append(chars)
    y += 0.32 + 0.06
    probability = figure.add_axes(place(y, 0.5), sharex=first)
    _draw_probabilities(probability, explanation.columns, edges)
    probability.legend(
        handles=[Patch(color=CHAR_COLOR, label="a character"),
                 Patch(color=BLANK_COLOR, label=f"blank ({BLANK_MARK}): no character")],
        loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7.5, frameon=False, handlelength=1.2,
    )
    axes.append(probability)
    y += 0.5 + 0.12
    char_frames = [t for t, column in enumerate(explanation.columns) if column.char is not None]
    for gates in explanation.gates:
        order = gates.varying_units()[:units]
        figure.text(
            left / fig_width, 1 - (y + 0.22) / height,
            f"{gates.direction} LSTM, {READING.get(gates.direction, '')}",
            fontsize=10.5, fontweight="bold", va="bottom",
        )
        figure.text(
            (left + plot_width) / fig_width, 1 - (y + 0.22) / height,
            f"rows: the mean of all {explanation.hidden_size} units, then the {units} units whose gates vary most "
            "along the word",
            fontsize=7.5, ha="right", va="bottom", color="0.3",
        )
        y += 0.3
        for row in GATE_ROWS:
            values = getattr(gates, row.name)
            shown = np.vstack([values.mean(axis=1)[None, :], values[:, order].T])  # (1 + units, T)
            ax = figure.add_axes(place(y + caption, heat_map), sharex=first)
            signed = row.ends is None
            # The scale of the rows drawn, clipped: a few frames can hold far larger memories than the rest.
            scale = max(float(np.percentile(np.abs(shown), 98)), 1e-6) if signed else 1.0
            drawn = ax.imshow(
                shown, aspect="auto", interpolation="nearest", extent=(0, image_width, shown.shape[0], 0),
                cmap="RdBu_r" if signed else "viridis", vmin=-scale if signed else 0.0, vmax=scale,
            )
            drawn.set_gid(f"{gates.direction}:{row.name}")
            ax.axhline(1, color="white", linewidth=2)
            ax.set_yticks(np.arange(shown.shape[0]) + 0.5,
                          ["mean"] + [f"unit {u}" for u in order.tolist()], fontsize=6)
            ax.tick_params(axis="y", length=0, pad=2)
            ax.set_ylabel(row.gate, rotation=0, ha="right", va="center", fontsize=10, fontweight="bold",
                          labelpad=8)
            ax.set_title(row.caption, fontsize=8, loc="left", pad=3)
            for t in char_frames:  # the frames where a character is read, through every map
                ax.axvline(centers[t], color="white", linewidth=0.7, alpha=0.8, linestyle=(0, (2, 2)))
            colorbar = figure.colorbar(drawn, cax=figure.add_axes(place(y + caption, heat_map, left + plot_width
                                                                        + 0.08, 0.1)))
            if row.ends is None:
                colorbar.set_ticks([-scale, 0, scale], labels=[f"{-scale:.1f}", "0", f"{scale:.1f}"])
            else:
                colorbar.set_ticks([0, 1], labels=[f"0 {row.ends[0]}", f"1 {row.ends[1]}"])
            colorbar.ax.tick_params(labelsize=7)
            axes.append(ax)
            y += caption + heat_map + gap
        y += 0.12
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].tick_params(axis="x", labelsize=8)
    your = "your image turned as read" if explanation.turned else "your image"
    axes[-1].set_xlabel(
        f"x: pixels of {your} ({image_width} px wide); each frame covers {WIDTH_STRIDE} columns of the "
        f"{explanation.crop.shape[0]}-px-high crop the model reads\n"
        f"dashed lines: the frames where a character is read · the ignore factor's name is the article's: "
        f"high values mean little is ignored",
        fontsize=7.5, labelpad=6,
    )
    first.set_xlim(0, image_width)
    return figure


def _draw_chars(ax: Any, columns: Sequence[_Column], centers: np.ndarray) -> None:
    """The best class per frame; the blank as a faint dot, explained beside the row."""
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("read here", rotation=0, ha="right", va="center", fontsize=10)
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    for x, column in zip(centers.tolist(), columns):
        if column.char is None:
            ax.text(x, 0.5, BLANK_MARK, ha="center", va="center", color="0.55", fontsize=10)
        else:
            label = "␣" if column.char == " " else column.char
            ax.text(x, 0.5, label, ha="center", va="center", fontsize=11, fontweight="bold", color=CHAR_COLOR)
    ax.text(1.01, 0.5, f"{BLANK_MARK} = blank: no character", transform=ax.transAxes, fontsize=7.5,
            va="center", ha="left", color="0.3")


def _draw_probabilities(ax: Any, columns: Sequence[_Column], edges: np.ndarray) -> None:
    """Bars of the best class's probability; grey for the blank."""
    widths = np.diff(edges)
    colors = [BLANK_COLOR if c.char is None else CHAR_COLOR for c in columns]
    ax.bar(edges[:-1] + widths * 0.075, [c.probability for c in columns], width=widths * 0.85, color=colors,
           align="edge")
    ax.set_ylim(0, 1)
    ax.set_yticks([0, 1])
    ax.tick_params(labelsize=7)
    ax.set_ylabel("how sure", rotation=0, ha="right", va="center", fontsize=10)
