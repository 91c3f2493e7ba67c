"""The synthetic word generator: seeded, RGB uint8, non-empty labels; and ``ocr-lstm synth``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_lstm.charset import Charset
from ocr_lstm.cli import main
from ocr_lstm.data.datasets import LabelledFolder
from ocr_lstm.preprocessing import load_image
from ocr_lstm.synth import generator as generator_module
from ocr_lstm.synth.fonts import find_fonts
from ocr_lstm.synth.generator import SynthConfig, SynthGenerator
from ocr_lstm.synth.words import sample_text, vocabulary


@pytest.fixture(scope="module")
def fonts() -> Iterator[tuple]:
    """The installed fonts, scanned once; wallpapers replaced by two small textures.

    Scanning fonts takes seconds the first time in a process (cached after);
    decoding the installed wallpapers takes far longer, and the code that cuts
    patches from them runs the same on small in-memory textures.
    """
    found = find_fonts()
    if not found:
        pytest.skip("no fonts installed (run `make setup`)")
    rng = np.random.default_rng(0)
    textures = (
        rng.integers(0, 256, (120, 200, 3), dtype=np.uint8),
        np.tile(np.linspace(0, 255, 300, dtype=np.uint8)[None, :, None], (90, 1, 3)),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generator_module, "load_backgrounds", lambda dirs: textures)
        yield found


def render(seed: int, count: int, difficulty: float = 0.6) -> list[tuple[np.ndarray, str]]:
    generator = SynthGenerator(seed=seed, config=SynthConfig(difficulty=difficulty))
    return [generator.render() for _ in range(count)]


def test_fonts_cover_ascii_letters_and_digits(fonts: tuple) -> None:
    for _, glyphs in fonts:
        assert set("aZ09") <= glyphs


def test_same_seed_gives_the_same_images_and_texts(fonts: tuple) -> None:
    first, second = render(7, 6), render(7, 6)
    assert [t for _, t in first] == [t for _, t in second]
    for (a, _), (b, _) in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_samples(fonts: tuple) -> None:
    assert [t for _, t in render(1, 6)] != [t for _, t in render(2, 6)]


@pytest.mark.parametrize("difficulty", [0.0, 1.0])
def test_images_are_rgb_uint8_of_word_like_shape_with_text(fonts: tuple, difficulty: float) -> None:
    for image, text in render(3, 8, difficulty):
        assert image.dtype == np.uint8
        assert image.ndim == 3 and image.shape[2] == 3
        assert image.shape[0] >= 8 and image.shape[1] >= 8
        assert text and text == text.strip()
        assert len(text) <= SynthConfig().max_length


def test_render_draws_the_requested_text(fonts: tuple) -> None:
    image, text = SynthGenerator(seed=0, config=SynthConfig(difficulty=0.0)).render("Hello")
    assert text == "Hello"
    assert image.shape[1] > image.shape[0]  # a five-letter word is wider than tall
    assert image.std() > 5  # something is drawn on the background


def test_backgrounds_are_used(fonts: tuple) -> None:
    assert len(SynthGenerator(seed=0).backgrounds) == 2


def test_generator_is_an_endless_iterator(fonts: tuple) -> None:
    stream = iter(SynthGenerator(seed=0))
    assert len([next(stream) for _ in range(3)]) == 3


def test_sample_text_is_seeded_and_mostly_spellable() -> None:
    texts = [sample_text(random.Random(5)) for _ in range(3)]
    assert len(set(texts)) == 1
    rng = random.Random(0)
    samples = [sample_text(rng) for _ in range(300)]
    assert all(s and len(s) <= 24 for s in samples)
    charset = Charset()
    assert sum(charset.clean(s) == s for s in samples) >= 0.95 * len(samples)
    assert any(s.isdigit() for s in samples) and any(s.isupper() for s in samples)


def test_vocabulary_is_plain_ascii_words() -> None:
    words = vocabulary(1000)
    assert len(words) == 1000
    assert "the" in words
    assert all(w.isascii() and " " not in w for w in words)


def test_synth_command_writes_a_labelled_folder(fonts: tuple, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "synth"
    assert main(["synth", "--count", "5", "--output", str(output), "--seed", "3"]) == 0
    assert "5 images" in capsys.readouterr().out
    dataset = LabelledFolder(output)
    assert len(dataset) == 5
    for i in range(5):
        image, text = dataset[i]
        assert text
        assert load_image(image).shape[2] == 3


def test_synth_command_stopped_midway_leaves_every_written_image_labelled(
    fonts: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A failed write stops the run with one error line; what was written stays listed."""
    import cv2

    from ocr_lstm.synth import folder

    real_imwrite, calls = cv2.imwrite, []

    def fail_third(path: str, *args: object) -> bool:
        calls.append(path)
        return real_imwrite(path, *args) if len(calls) < 3 else False

    monkeypatch.setattr(folder.cv2, "imwrite", fail_third)
    output = tmp_path / "synth"
    assert main(["synth", "--count", "5", "--output", str(output)]) == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith("error: could not write")
    dataset = LabelledFolder(output)
    assert len(dataset) == 2
    assert all(load_image(dataset[i][0]).shape[2] == 3 for i in range(2))


def test_synth_command_refuses_a_zero_count(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", "--count", "0", "--output", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "argument --count: must be at least 1, got 0" in capsys.readouterr().err


def test_letter_spacing_moves_each_letter_further_right(fonts: tuple) -> None:
    font = ImageFont.truetype(fonts[0][0], 32)

    def ink_columns(spacing: float) -> np.ndarray:
        mask = Image.new("L", (300, 60), 0)
        SynthGenerator._draw_text(ImageDraw.Draw(mask), (10, 10), "HILL", font, spacing, 0)
        return np.flatnonzero(np.asarray(mask).max(axis=0) > 128)

    plain, spaced = ink_columns(0), ink_columns(12)
    assert spaced[0] == plain[0]  # the first letter stays put
    assert spaced[-1] - plain[-1] == pytest.approx(3 * 12, abs=2)  # three gaps, 12 px each


def test_neighbouring_words_reach_into_both_edges(fonts: tuple) -> None:
    def both_edges_inked(neighbours: float, count: int = 30) -> int:
        styles = SynthConfig(difficulty=0.0, neighbours=neighbours, letter_spacing=0.0, outline=0.0, rule=0.0)
        generator = SynthGenerator(seed=4, config=styles)
        generator.backgrounds = ()  # flat and gradient backgrounds: only letters make sharp edges
        hits = 0
        for _ in range(count):
            gray = cv2.cvtColor(generator.render()[0], cv2.COLOR_RGB2GRAY).astype(np.float32)
            edges = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0))
            strip = max(1, gray.shape[1] // 30)
            hits += bool(edges[:, :strip].max() > 100 and edges[:, -strip:].max() > 100)
        return hits

    assert both_edges_inked(1.0) >= 20
    assert both_edges_inked(0.0) <= 10


def test_neighbours_show_as_slivers_beside_the_word_never_over_it(
    fonts: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where each drawn text's ink lands: the word inside the canvas, each neighbour a
    word space away on its side, cut by the canvas edge (so never a whole extra letter)."""
    inks: list[tuple[int, int, int]] = []  # (first ink column, last ink column, canvas width)
    draw_text = SynthGenerator._draw_text

    def recording(draw: ImageDraw.ImageDraw, origin: tuple[float, float], *args: object) -> None:
        width, height = draw.im.size
        scratch = Image.new("L", (width + 4000, height), 0)
        draw_text(ImageDraw.Draw(scratch), (origin[0] + 2000, origin[1]), *args)
        columns = np.flatnonzero(np.asarray(scratch).max(axis=0) > 0) - 2000
        inks.append((int(columns[0]), int(columns[-1]), width))
        draw_text(draw, origin, *args)

    monkeypatch.setattr(SynthGenerator, "_draw_text", staticmethod(recording))
    styles = SynthConfig(difficulty=0.0, neighbours=1.0, letter_spacing=0.5, outline=0.0, rule=0.0)
    generator = SynthGenerator(seed=6, config=styles)
    for _ in range(40):
        inks.clear()
        generator.render()
        (word_first, word_last, width), (left_first, left_last, _), (right_first, right_last, _) = inks
        assert word_first >= 0 and word_last < width
        assert left_first < 0 <= left_last < word_first - 1  # cut by the left edge, clear of the word
        assert word_last + 1 < right_first < width <= right_last + 1  # clear of the word, cut by the right edge


def test_every_style_at_once_renders_a_non_blank_image(fonts: tuple) -> None:
    styles = SynthConfig(difficulty=1.0, letter_spacing=1.0, outline=1.0, neighbours=1.0, rule=1.0)
    generator = SynthGenerator(seed=5, config=styles)
    for _ in range(6):
        image, text = generator.render()
        assert image.dtype == np.uint8 and image.ndim == 3 and min(image.shape[:2]) >= 8
        assert text and image.std() > 5


def test_lines_hold_several_words_with_single_spaces(fonts: tuple) -> None:
    generator = SynthGenerator(seed=8, config=SynthConfig(difficulty=0.0, lines=1.0))
    for _ in range(12):
        image, text = generator.render()
        assert 2 <= len(text.split(" ")) <= 6 and "  " not in text and text == text.strip()
        assert len(text) <= SynthConfig.max_line_length
        assert image.shape[1] > 2 * image.shape[0]  # a line is wide


def test_sample_line_is_seeded_and_cased_as_one_line() -> None:
    from ocr_lstm.synth.words import sample_line

    first = [sample_line(random.Random(3)) for _ in range(1)]
    assert first == [sample_line(random.Random(3))]
    lines = [sample_line(random.Random(seed), (3, 3), 200) for seed in range(200)]
    assert all(len(line.split(" ")) == 3 for line in lines)
    assert any(line.isupper() for line in lines)  # whole lines in capitals, as on signs


def test_word_gaps_widen_only_the_spaces(fonts: tuple) -> None:
    font = ImageFont.truetype(fonts[0][0], 32)

    def ink_columns(gap: float) -> np.ndarray:
        mask = Image.new("L", (500, 60), 0)
        SynthGenerator._draw_text(ImageDraw.Draw(mask), (10, 10), "AB CD EF", font, 0.0, 0, gap)
        return np.flatnonzero(np.asarray(mask).max(axis=0) > 128)

    plain, wide = ink_columns(0.0), ink_columns(15.0)
    assert wide[0] == plain[0]
    assert wide[-1] - plain[-1] == pytest.approx(2 * 15, abs=2)  # two spaces, 15 px wider each


def test_line_edges_ink_the_margin_above_or_below(fonts: tuple) -> None:
    def inked_margins(line_edges: float) -> int:
        styles = SynthConfig(difficulty=0.0, lines=1.0, line_edges=line_edges, neighbours=0.0, rule=0.0, outline=0.0)
        generator = SynthGenerator(seed=9, config=styles)
        generator.backgrounds = ()
        hits = 0
        for _ in range(30):
            gray = cv2.cvtColor(generator.render()[0], cv2.COLOR_RGB2GRAY).astype(np.float32)
            edges = np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))
            rows = max(1, gray.shape[0] // 10)
            hits += bool(edges[:rows].max() > 100 or edges[-rows:].max() > 100)
        return hits

    assert inked_margins(1.0) > inked_margins(0.0) + 8
