"""The explanation's picture: drawn with matplotlib (the viz extra) when first asked for."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image
from word_images import render_word

from ocr_lstm.explain import TOP_UNITS, Explanation, explain_image
from ocr_lstm.recognizer import Recognizer
from ocr_lstm.viz.explain_picture import draw_figure, render_png

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
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
    return texts


def heat_map(figure: Figure, gid: str) -> np.ndarray:
    (image,) = [im for ax in figure.axes for im in ax.get_images() if im.get_gid() == gid]
    return np.asarray(image.get_array())


def test_captions_name_the_four_gates_in_the_articles_words(figure_of: tuple[Explanation, Figure]) -> None:
    _, figure = figure_of
    texts = figure_texts(figure)
    joined = "\n".join(texts)
    assert "ignore factor i_t: 1 = the candidate is learned, 0 = ignored" in joined
    assert "forget factor f_t: 1 = the long-term memory is kept, 0 = forgotten" in joined
    assert "LTM_t = f_t · LTM_{t-1} + i_t · N_t" in joined
    assert "V_t: 1 = the memory is shown as the output STM_t, 0 = held back" in joined
    # The gates' names label the maps, in the article's order, once per direction.
    labels = [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel() in {"learn", "forget", "remember", "use"}]
    assert labels == ["learn", "forget", "remember", "use"] * 2
    assert "forward LSTM, reads left → right" in texts and "reverse LSTM, reads right → left" in texts
    # Colour bars say what 0 and 1 mean.
    assert {"0 ignored", "1 learned", "0 forgotten", "1 kept", "0 held back", "1 shown"} <= set(texts)


def test_blank_and_characters_have_a_legend(figure_of: tuple[Explanation, Figure]) -> None:
    explanation, figure = figure_of
    texts = figure_texts(figure)
    assert "blank (·): no character" in texts and "a character" in texts
    assert "· = blank: no character" in texts
    (row,) = [ax for ax in figure.axes if ax.get_ylabel() == "read here"]
    drawn = [t.get_text() for t in row.texts][: len(explanation.columns)]  # one per frame, then the legend
    assert drawn == ["·" if c.char is None else c.char.replace(" ", "␣") for c in explanation.columns]


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
    assert len(shared) == 3 + 4 * 2  # image, characters, probabilities and the eight heat maps
    # Each heat map spans the image's width, one cell per frame.
    for ax in shared[3:]:
        assert ax.get_images()[0].get_extent()[:2] == [0, width]
        assert ax.get_images()[0].get_array().shape[1] == len(explanation.columns)
    assert "pixels of your image" in shared[-1].get_xlabel()


def test_heat_maps_show_the_mean_then_the_most_varying_units(figure_of: tuple[Explanation, Figure]) -> None:
    explanation, figure = figure_of
    assert explanation.hidden_size > TOP_UNITS
    for gates in explanation.gates:
        top = gates.varying_units()[:TOP_UNITS]
        for name in ("ignore", "forget", "long_term", "use"):
            shown = heat_map(figure, f"{gates.direction}:{name}")
            values = getattr(gates, name)
            assert shown.shape == (1 + TOP_UNITS, len(explanation.columns))
            np.testing.assert_allclose(shown[0], values.mean(axis=1), atol=1e-6)
            np.testing.assert_allclose(shown[1:], values[:, top].T, atol=1e-6)
    texts = figure_texts(figure)
    forward_top = explanation.gates[0].varying_units()[:TOP_UNITS].tolist()
    assert [f"unit {u}" for u in forward_top] == [t for t in texts if t.startswith("unit ")][:TOP_UNITS]


def test_a_turned_image_is_drawn_as_it_was_read(recognizer: Recognizer, word_png: Path) -> None:
    with Image.open(word_png) as image:
        tall = np.asarray(image.convert("RGB").rotate(90, expand=True))
    explanation = explain_image(recognizer, tall, render=False)
    figure = draw_figure(explanation)
    (top,) = [ax for ax in figure.axes if ax.get_ylabel() == "your image"]
    assert top.get_xlim() == (0, explanation.read_image.shape[1])
    np.testing.assert_array_equal(np.asarray(top.get_images()[0].get_array()), explanation.read_image)
