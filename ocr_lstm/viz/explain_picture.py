"""The picture of an :class:`ocr_lstm.recognition.explain.Explanation` (``ocr-lstm explain``, ``POST /v1/explain``),
drawn to be read without the docs, as the web page's explain panel is: the user's image on top, what
the model read in each column and how sure it was, then for each reading direction of the last LSTM
layer the four gates of the article (learn, forget, remember, use), one strip each, every cell one
column shaded by the gate's mean over the hidden units, and every panel captioned with what it shows
and how to read it. All rows share the x axis of the user's image, in its pixels.

matplotlib, the ``viz`` extra, is imported when a picture is drawn, never by importing this.
The explanation is described by the protocols below rather than imported, because its ``png``
property is what calls :func:`render_png`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ocr_lstm.errors import require
from ocr_lstm.model.config import WIDTH_STRIDE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The article that ocr-lstm grew out of, whose names for the LSTM's parts the picture uses (docs/lstm.md).
ARTICLE = 'Manik Soni, "Understanding architecture of LSTM cell from scratch with code" (Hackernoon, 2018)'
CHAR_COLOR, BLANK_COLOR = "tab:blue", "0.75"
BLANK_MARK = "·"
GATE_COLORS, MEMORY_COLORS = "Blues", "Oranges"
READING = {
    "forward": "reading left → right (time runs →): each column has seen the word from its start up to there",
    "reverse": "reading right → left (time runs ←): each column has seen the word from its end back to there",
}

# Sizes in inches, font sizes in points.
MARGIN, LEFT, RIGHT = 0.2, 1.15, 0.35
INCHES_PER_FRAME = 0.24  # a character fits over its column
CAPTION_SIZE, LINE_SPACING = 8.0, 1.3
STRIP = 0.27  # one gate's row of cells
X_AXIS = 0.45  # under the last strip: its tick labels and the x axis's name
LETTER_NUMBERS_MIN_FRAME = 0.2  # inches: the narrowest column that still holds a number like "100"
# Text is measured word by word at the PNG's resolution, where hinting makes it up to 5 % wider than
# at 144 dpi, and wrapped 3 % short of its width for kerning and the other resolutions.
RULER_DPI, RULER_SLACK = 100, 0.97


@dataclass(frozen=True)
class GateRow:
    """One gate's strip: the explanation's array ``name`` (a share in 0..1, or the signed memory)."""

    name: str
    gate: str  # the article's gate
    caption: str  # what the strip shows and how to read it; {max} is the memory's darkest value


# The article's order: learn, forget, remember, use.
GATE_ROWS = (
    GateRow("ignore", "learn", "learn: the share of the new memory on offer (N_t) that it takes in, the article's "
            "ignore factor i_t (pale = ignored, dark = all taken in)"),
    GateRow("forget", "forget", "forget: the share of its long-term memory that it keeps, the forget factor f_t "
            "(pale = forgotten, dark = all kept)"),
    GateRow("long_term", "remember", "remember: how much long-term memory it holds now, LTM_t = f_t · LTM_{{t-1}} "
            "+ i_t · N_t, the mean size |LTM_t| (pale = none, dark = {max:.1f}, the most in this picture)"),
    GateRow("use", "use", "use: the share of that memory it shows as its output, the short-term memory "
            "STM_t = V_t · tanh(LTM_t) that the next layer reads, the use factor V_t "
            "(pale = hidden, dark = all shown)"),
)


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

    The palette makes the file about a quarter of a true-colour PNG's size and is not visible in
    the picture: flat cells, text and one photo.
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


def gate_values(gates: _Direction, row: GateRow) -> np.ndarray:
    """What a strip shows at each column: the gate's mean over the hidden units (of the size, for the memory)."""
    values = getattr(gates, row.name)
    return np.abs(values).mean(axis=1) if row.name == "long_term" else values.mean(axis=1)


def draw_figure(explanation: Traced) -> Figure:
    """The picture as a matplotlib figure: paragraphs and panels stacked from the top (:class:`_Layout`),
    each paragraph wrapped to its width as the Agg renderer measures it, so that no text is cut or lies
    on another at any width."""
    require("matplotlib", "viz")
    image = explanation.read_image
    edges = explanation.frame_edges()
    image_width = image.shape[1]
    columns = explanation.columns
    steps = len(columns)
    centers = (edges[:-1] + edges[1:]) / 2
    plot_width = float(np.clip(steps * INCHES_PER_FRAME, 5.5, 20.0))
    numbers = plot_width / steps >= LETTER_NUMBERS_MIN_FRAME  # the values fit in the letters' columns
    layout = _Layout(plot_width)
    text_width = layout.width - 2 * MARGIN  # paragraphs run across the figure
    caption_width = plot_width + RIGHT - 0.1  # captions start at the panels' left edge
    units = explanation.hidden_size

    def caption(text: str, gap: float = 0.04) -> None:
        layout.paragraph(text, CAPTION_SIZE, LEFT, caption_width, color="0.2", gap=gap)

    turned = f", turned {abs(explanation.turned)}° {'left' if explanation.turned > 0 else 'right'} to be read" if (
        explanation.turned) else ""
    layout.paragraph(f"The model read {explanation.text!r}, with confidence {explanation.confidence:.2f}: how its "
                     "LSTM read it, column by column", 13, MARGIN, text_width, bold=True, gap=0.1)
    layout.paragraph(
        f"Model {explanation.model}. Every panel below shares one x axis, the pixels of your image{turned}, cut into "
        f"{steps} columns of {edges[1] - edges[0]:.1f} px: each column is one step of the model, which reads "
        f"{WIDTH_STRIDE} pixel columns of the image shrunk to {explanation.crop.shape[0]} px high.",
        9, MARGIN, text_width, gap=0.22)

    caption(f"Your image{turned}, as the model reads it")
    layout.panel(float(np.clip(plot_width * image.shape[0] / image_width, 0.6, 1.4)),
                 lambda ax: _draw_image(ax, image), gap=0.16)
    caption(f"What the model reads in each column: a letter (blue), or {BLANK_MARK}, the blank: no letter here. "
            "A letter read in neighbouring columns counts once.", gap=0.02)
    char_size = float(min(11.0, plot_width / steps * 72 * 0.8))
    layout.panel(0.3, lambda ax: _draw_chars(ax, columns, centers, char_size), gap=0.1)
    caption("How sure it is of that reading: the bar's height is its probability, from 0 to 1 (blue for a letter, "
            "grey for the blank).")
    layout.panel(0.45, lambda ax: _draw_probabilities(ax, columns, edges), gap=0.3)

    marks = (", with the value (in % for learn, forget and use) written in the columns where a letter is read."
             if numbers else "; dotted lines mark the columns where a letter is read.")
    layout.paragraph(
        f"Below: the last LSTM layer ({explanation.layer + 1}) in the four gates of the article that ocr-lstm grew "
        f"out of, {ARTICLE}. It reads the columns in both directions, with {units} memory units each. At every "
        "column each unit learns (takes in part of the new memory on offer), forgets (keeps part of its long-term "
        "memory), remembers (adds the two: its new long-term memory) and uses (shows part of that memory as its "
        f"output). One strip per gate, one cell per column, shaded by the mean over the {units} units: darker = "
        f"more{marks}", 9, MARGIN, text_width, gap=0.2)

    letters = np.array([column.char is not None for column in columns])
    memory_max = max(float(gate_values(g, GATE_ROWS[2]).max()) for g in explanation.gates) or 1.0
    for k, gates in enumerate(explanation.gates):
        if k:
            layout.skip(0.2)
        layout.paragraph(f"{gates.direction} LSTM, {READING.get(gates.direction, '')}", 10.5, MARGIN, text_width,
                         bold=True, gap=0.06)
        summary = _summary(gates, letters)
        if summary:
            caption(summary, gap=0.1)
        for row in GATE_ROWS:
            caption(row.caption.format(max=memory_max), gap=0.03)
            scale = memory_max if row.name == "long_term" else 1.0
            strip = _Strip(row, gate_values(gates, row), scale, gates.direction)
            layout.panel(STRIP, partial(strip.draw, edges=edges, centers=centers, letters=letters, numbers=numbers),
                         gap=0.1)

    figure = layout.figure(image_width, bottom=X_AXIS)
    last = figure.axes[-1]
    last.tick_params(axis="x", bottom=True, labelbottom=True, labelsize=8)
    your = "your image turned as read" if explanation.turned else "your image"
    last.set_xlabel(f"x: pixels of {your} ({image_width} px wide)", fontsize=8, labelpad=4)
    return figure


class _Layout:
    """Paragraphs and panels stacked from the top of a figure ``LEFT + plot_width + RIGHT`` inches wide;
    each is drawn by :meth:`figure`, once the height they take together is known."""

    def __init__(self, plot_width: float) -> None:
        from matplotlib.backends.backend_agg import RendererAgg

        self.plot_width = plot_width
        self.width = LEFT + plot_width + RIGHT
        self.y = MARGIN  # inches from the top
        self.steps: list[Callable[[Figure, float], object]] = []  # each draws at (figure, its height)
        self.ruler = RendererAgg(1, 1, RULER_DPI)

    def skip(self, inches: float) -> None:
        self.y += inches

    def paragraph(self, text: str, size: float, x: float, width: float, bold: bool = False, color: str = "black",
                  gap: float = 0.08) -> None:
        """``text`` at ``x`` inches from the left, wrapped to ``width`` inches."""
        wrapped = self.wrap(text, size, width, bold)
        top, fraction = self.y, x / self.width
        self.steps.append(lambda figure, height: figure.text(
            fraction, 1 - top / height, wrapped, fontsize=size, fontweight="bold" if bold else "normal",
            color=color, ha="left", va="top", linespacing=LINE_SPACING, parse_math=False))
        self.y += (wrapped.count("\n") + 1) * size * LINE_SPACING / 72 + gap

    def panel(self, height: float, draw: Callable[[Any], None], gap: float) -> None:
        """Axes ``height`` inches high over the plot's width, drawn by ``draw``."""
        top = self.y
        self.steps.append(lambda figure, total: draw(figure.add_axes(
            (LEFT / self.width, 1 - (top + height) / total, self.plot_width / self.width, height / total))))
        self.y += height + gap

    def wrap(self, text: str, size: float, width: float, bold: bool = False) -> str:
        """``text`` broken at spaces into lines at most ``width`` inches wide at ``size`` points."""
        from matplotlib.font_manager import FontProperties

        font = FontProperties(size=size, weight="bold" if bold else "normal")

        def measure(piece: str) -> float:  # each word once: measuring costs some 25 µs a character
            return float(self.ruler.get_text_width_height_descent(piece, font, ismath=False)[0]) / RULER_DPI

        space = measure("a a") - measure("aa")
        lines: list[list[str]] = []
        room = 0.0
        for word in text.split(" "):
            needed = measure(word)
            if lines and needed + space <= room:
                lines[-1].append(word)
                room -= needed + space
            else:
                lines.append([word])
                room = width * RULER_SLACK - needed
        return "\n".join(" ".join(line) for line in lines)

    def figure(self, x_max: float, bottom: float) -> Figure:
        """The figure, ``bottom`` inches left under the last panel; every panel's x axis is the first's,
        from 0 to ``x_max``, labelled under the last one only."""
        # The object-oriented API with an Agg canvas: no pyplot global state, safe in a server thread.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        height = self.y + bottom + MARGIN
        figure = Figure(figsize=(self.width, height))
        FigureCanvasAgg(figure)
        for step in self.steps:
            step(figure, height)
        first = figure.axes[0]
        for ax in figure.axes:
            if ax is not first:
                ax.sharex(first)
            ax.tick_params(axis="x", bottom=False, labelbottom=False)
        first.set_xlim(0, x_max)
        return figure


def _draw_image(ax: Any, image: np.ndarray) -> None:
    ax.imshow(image, cmap="gray", vmin=0, vmax=255, aspect="auto", extent=(0, image.shape[1], image.shape[0], 0),
              interpolation="antialiased")
    ax.set_yticks([])
    ax.set_ylabel("your image", rotation=0, ha="right", va="center", fontsize=10)


def _draw_chars(ax: Any, columns: Sequence[_Column], centers: np.ndarray, size: float) -> None:
    """The best class per column; the blank as a faint dot."""
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("read here", rotation=0, ha="right", va="center", fontsize=10)
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    for x, column in zip(centers.tolist(), columns):
        if column.char is None:
            ax.text(x, 0.5, BLANK_MARK, ha="center", va="center", color="0.55", fontsize=size)
        else:
            label = "␣" if column.char == " " else column.char
            ax.text(x, 0.5, label, ha="center", va="center", fontsize=size, fontweight="bold", color=CHAR_COLOR,
                    parse_math=False)


def _draw_probabilities(ax: Any, columns: Sequence[_Column], edges: np.ndarray) -> None:
    """Bars of the best class's probability; grey for the blank."""
    widths = np.diff(edges)
    colors = [BLANK_COLOR if c.char is None else CHAR_COLOR for c in columns]
    ax.bar(edges[:-1] + widths * 0.075, [c.probability for c in columns], width=widths * 0.85, color=colors,
           align="edge")
    ax.set_ylim(0, 1)
    ax.set_yticks([0, 1], ["0", "1"])
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("how sure", rotation=0, ha="right", va="center", fontsize=10, labelpad=8)


@dataclass(frozen=True)
class _Strip:
    """One gate of one direction as a row of cells over the image's x axis: pale at 0, dark at ``scale``."""

    row: GateRow
    values: np.ndarray  # (T,)
    scale: float
    direction: str

    def draw(self, ax: Any, edges: np.ndarray, centers: np.ndarray, letters: np.ndarray, numbers: bool) -> None:
        """``numbers``: write the value in each letter's column, else mark the column with a dotted line."""
        memory = self.row.name == "long_term"
        drawn = ax.imshow(self.values[None, :], aspect="auto", interpolation="nearest", extent=(0, edges[-1], 1, 0),
                          cmap=MEMORY_COLORS if memory else GATE_COLORS, vmin=0.0, vmax=self.scale)
        drawn.set_gid(f"{self.direction}:{self.row.name}")
        ax.set_yticks([])
        ax.set_ylabel(self.row.gate, rotation=0, ha="right", va="center", fontsize=9.5, fontweight="bold",
                      labelpad=6)
        for t in np.flatnonzero(letters).tolist():
            if numbers:
                value = float(self.values[t])
                ax.text(centers[t], 0.5, f"{value:.1f}" if memory else f"{round(100 * value)}", ha="center",
                        va="center", fontsize=6.5, color="white" if value / self.scale > 0.55 else "black")
            else:
                ax.axvline(centers[t], color="0.2", linewidth=0.6, alpha=0.6, linestyle=(0, (1, 2)))


def _summary(gates: _Direction, letters: np.ndarray) -> str:
    """The learn, forget and use shares on the letters' columns against the blanks', in words."""
    if letters.all() or not letters.any():
        return ""

    def shares(where: np.ndarray) -> list[str]:
        return [f"{round(100 * float(getattr(gates, name)[where].mean()))} %" for name in ("ignore", "forget", "use")]

    on, off = shares(letters), shares(~letters)
    count, blanks = int(letters.sum()), int((~letters).sum())
    return (f"In short: in the {count} column{'s' * (count > 1)} where a letter is read it takes in {on[0]} of the "
            f"new memory, keeps {on[1]} of its long-term memory and shows {on[2]} of it, on average; in the {blanks} "
            f"blank column{'s' * (blanks > 1)}, {off[0]}, {off[1]} and {off[2]}.")
