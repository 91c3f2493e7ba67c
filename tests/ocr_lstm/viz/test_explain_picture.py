"""The explanation's picture: drawn with matplotlib (the viz extra) when first asked for."""

from __future__ import annotations

import io
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image
from word_images import render_word

from ocr_lstm.recognition.explain import Explanation, explain_image
from ocr_lstm.recognition.recognizer import Recognizer
from ocr_lstm.viz.explain_picture import ARTICLE, draw_figure, render_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def recognizer(tiny_model_path: Path) -> Recognizer:
    return Recognizer(tiny_model_path, device="cpu", threads=1)


def test_png_is_a_decodable_picture_sized_to_the_word(recognizer: Recognizer, word_png: Path) -> None:
    explanation = explain_image(recognizer, word_png)
    assert "png" in vars(explanation)  # drawn by explain_image, in the caller's thread
    png = explanation.png
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        width, height = image.size
    assert 400 <= width <= 2500
    assert 600 <= height <= 2000
    assert len(png) < 1_000_000


def test_the_png_keeps_to_a_palette_to_stay_small(recognizer: Recognizer, wide_word: Path) -> None:
    png = explain_image(recognizer, wide_word).png
    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == "P"
        assert len(image.getcolors(256) or []) <= 256
    assert len(png) < 200_000


def test_render_false_defers_the_picture(recognizer: Recognizer, word_png: Path) -> None:
    deferred = explain_image(recognizer, word_png, render=False)
    assert "png" not in vars(deferred)
    assert deferred.to_dict()["text"] == deferred.text
    assert deferred.png.startswith(PNG_SIGNATURE)


def test_the_picture_is_the_renderers_drawing_of_the_explanation(recognizer: Recognizer, word_png: Path) -> None:
    explanation = explain_image(recognizer, word_png, render=False)
    with Image.open(io.BytesIO(render_png(explanation, dpi=50))) as small, Image.open(
        io.BytesIO(explanation.png)
    ) as full:
        assert small.size[0] == pytest.approx(full.size[0] / 2, abs=2)


def test_without_matplotlib_the_picture_asks_for_the_viz_extra(
    recognizer: Recognizer, word_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explanation = explain_image(recognizer, word_png, render=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'ocr-lstm\[viz\]'"):
        explanation.png  # noqa: B018


@pytest.fixture(scope="module")
def wide_word(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A word image whose width in pixels is not the crop's: 96 pixels high, resized to 32."""
    path = tmp_path_factory.mktemp("explain") / "wide.png"
    render_word("gates", height=96).save(path)
    return path


@pytest.fixture(scope="module")
def figure_of(recognizer: Recognizer, wide_word: Path) -> tuple[Explanation, Figure]:
    explanation = explain_image(recognizer, wide_word, render=False)
    return explanation, draw_figure(explanation)


def figure_texts(figure: Figure) -> list[str]:
    """Every string drawn: figure texts, axes texts, titles, labels, tick labels and legends."""
    texts = [t.get_text() for t in figure.texts]
    for ax in figure.axes:
        texts += [t.get_text() for t in ax.texts]
        texts += [ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_yticklabels()]
    return texts


def words(figure: Figure) -> str:
    """The figure's paragraphs as one text, lines joined again."""
    return " ".join(t.get_text().replace("\n", " ") for t in figure.texts)


def strip(figure: Figure, gid: str) -> np.ndarray:
    (image,) = [im for ax in figure.axes for im in ax.get_images() if im.get_gid() == gid]
    return np.asarray(image.get_array())


def drawn_text_extents(figure: Figure) -> tuple[Bbox, list[tuple[str, Bbox]]]:
    """The figure's box and, once drawn by Agg, the window extent of every text it shows (tick labels
    only for the ticks inside their axis's view)."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    undrawn = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    undrawn.update((id(tick.label1), id(tick.label2)))
    texts = [
        (t.get_text(), t.get_window_extent(renderer))
        for t in figure.findobj(Text)
        if id(t) not in undrawn and t.get_visible() and t.get_text().strip()
    ]
    return figure.bbox, texts


@pytest.mark.parametrize("word", ["hello", "a", "WARNING", "Understanding architecture of LSTM cells", "$5 and $6"])
@pytest.mark.parametrize("turn", [False, True])
def test_no_text_is_cut_or_lies_on_another(recognizer: Recognizer, word: str, turn: bool) -> None:
    image = render_word(word, height=44)
    explanation = explain_image(recognizer, image.rotate(90, expand=True) if turn else image, render=False)
    box, texts = drawn_text_extents(draw_figure(explanation))
    assert len(texts) > 40
    for text, extent in texts:
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, (
            f"{text!r} at {extent.bounds} is cut by the figure's edge {box.bounds}")
    for (a, first), (b, second) in itertools.combinations(texts, 2):
        width = min(first.x1, second.x1) - max(first.x0, second.x0)
        height = min(first.y1, second.y1) - max(first.y0, second.y0)
        assert width <= 0 or height <= 0, f"{a!r} overlaps {b!r}"


def test_the_article_and_its_four_gates_are_named_in_its_words(figure_of: tuple[Explanation, Figure]) -> None:
    _, figure = figure_of
    text = words(figure)
    assert ARTICLE in text
    assert ARTICLE.startswith("Manik Soni") and "Understanding architecture of LSTM cell" in ARTICLE
    # The strips are labelled with the gates' names, in the article's order, once per direction.
    labels = [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel() in {"learn", "forget", "remember", "use"}]
    assert labels == ["learn", "forget", "remember", "use"] * 2
    # Each strip's caption says what the gate does, in the article's symbols.
    for caption in ("learn: the share of the new memory on offer (N_t) that it takes in, the article's ignore "
                    "factor i_t", "forget: the share of its long-term memory that it keeps, the forget factor f_t",
                    "LTM_t = f_t · LTM_{t-1} + i_t · N_t", "STM_t = V_t · tanh(LTM_t)"):
        assert text.count(caption) == 2


def test_every_panel_says_how_to_read_it(figure_of: tuple[Explanation, Figure]) -> None:
    explanation, figure = figure_of
    text = words(figure)
    # What a column is, what a cell's shade means, which way time runs.
    assert f"cut into {len(explanation.columns)} columns of" in text and "each column is one step of the model" in text
    assert "darker = more" in text
    for pale, dark in (("pale = ignored", "dark = all taken in"), ("pale = forgotten", "dark = all kept"),
                       ("pale = none", "the most in this picture"), ("pale = hidden", "dark = all shown")):
        assert text.count(pale) == 2 and text.count(dark) == 2
    assert "forward LSTM, reading left → right (time runs →)" in text
    assert "reverse LSTM, reading right → left (time runs ←)" in text
    # The rows above the gates: the image, the reading with its blank, the probabilities.
    assert "Your image, as the model reads it" in text
    assert "a letter (blue), or ·, the blank: no letter here" in text
    assert "the bar's height is its probability, from 0 to 1" in text
    assert [ax.get_ylabel() for ax in figure.axes[:3]] == ["your image", "read here", "how sure"]


def test_the_reading_row_shows_each_columns_class(figure_of: tuple[Explanation, Figure]) -> None:
    explanation, figure = figure_of
    (row,) = [ax for ax in figure.axes if ax.get_ylabel() == "read here"]
    assert [t.get_text() for t in row.texts] == [
        "·" if c.char is None else c.char.replace(" ", "␣") for c in explanation.columns
    ]


def test_the_x_axis_is_the_users_image_in_its_pixels(figure_of: tuple[Explanation, Figure], wide_word: Path) -> None:
    explanation, figure = figure_of
    with Image.open(wide_word) as given:
        width, height = given.size
    assert width != explanation.crop.shape[1]
    (top,) = [ax for ax in figure.axes if ax.get_ylabel() == "your image"]
    assert top.get_xlim() == (0, width)
    # The image on top is the user's, in colour and at its own size, not the 32-pixel crop.
    np.testing.assert_array_equal(np.asarray(top.get_images()[0].get_array()), np.asarray(Image.open(wide_word)))
    assert top.get_images()[0].get_extent() == [0, width, height, 0]
    shared = [ax for ax in figure.axes if ax.get_shared_x_axes().joined(ax, top)]
    assert len(shared) == len(figure.axes) == 3 + 4 * 2  # image, characters, probabilities and the eight strips
    # Each strip spans the image's width, one cell per column.
    for ax in shared[3:]:
        assert ax.get_images()[0].get_extent()[:2] == pytest.approx([0, width])
        assert ax.get_images()[0].get_array().shape == (1, len(explanation.columns))
    assert "pixels of your image" in shared[-1].get_xlabel()


def test_strips_show_each_gates_mean_over_the_units(figure_of: tuple[Explanation, Figure]) -> None:
    explanation, figure = figure_of
    for gates in explanation.gates:
        for name in ("ignore", "forget", "use"):
            np.testing.assert_allclose(strip(figure, f"{gates.direction}:{name}")[0],
                                       getattr(gates, name).mean(axis=1), atol=1e-6)
        np.testing.assert_allclose(strip(figure, f"{gates.direction}:long_term")[0],
                                   np.abs(gates.long_term).mean(axis=1), atol=1e-6)


def test_the_values_are_written_where_a_letter_is_read(figure_of: tuple[Explanation, Figure]) -> None:
    explanation, figure = figure_of
    letters = [t for t, c in enumerate(explanation.columns) if c.char is not None]
    assert letters
    (learn, *_) = [ax for ax in figure.axes if ax.get_ylabel() == "learn"]
    forward = explanation.gates[0]
    assert [t.get_text() for t in learn.texts] == [f"{round(100 * forward.ignore[t].mean())}" for t in letters]
    (remember, *_) = [ax for ax in figure.axes if ax.get_ylabel() == "remember"]
    assert [t.get_text() for t in remember.texts] == [f"{np.abs(forward.long_term[t]).mean():.1f}" for t in letters]


def test_a_turned_image_is_drawn_as_it_was_read(recognizer: Recognizer, word_png: Path) -> None:
    with Image.open(word_png) as image:
        tall = np.asarray(image.convert("RGB").rotate(90, expand=True))
    explanation = explain_image(recognizer, tall, render=False)
    figure = draw_figure(explanation)
    (top,) = [ax for ax in figure.axes if ax.get_ylabel() == "your image"]
    assert top.get_xlim() == (0, explanation.read_image.shape[1])
    np.testing.assert_array_equal(np.asarray(top.get_images()[0].get_array()), explanation.read_image)
    assert "turned 90°" in words(figure)
