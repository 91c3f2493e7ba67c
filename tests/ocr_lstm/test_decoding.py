"""CTC decoding on hand-made probability matrices: greedy, beam, confidences, constraints."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from ctc_frames import CHARSET, frames

from ocr_lstm.charset import BLANK, Charset
from ocr_lstm.decoding import (
    CTCDecoder,
    align_confidences,
    ctc_log_likelihoods,
    greedy_path,
    prefix_beam_search,
)


def ctc_log_likelihood(log_probs: np.ndarray, labels: list[int]) -> float:
    return float(ctc_log_likelihoods(log_probs, [labels])[0])


def test_greedy_collapses_repeats_and_removes_blanks() -> None:
    decoded = CTCDecoder(CHARSET).decode(frames("-", "c", "c", "-", "a", "a", "a", "t", "-"))
    assert decoded.text == "cat"


def test_greedy_needs_a_blank_between_repeated_letters() -> None:
    decoder = CTCDecoder(CHARSET)
    assert decoder.decode(frames("h", "e", "l", "-", "l", "o")).text == "hello"
    assert decoder.decode(frames("h", "e", "l", "l", "o")).text == "helo"


def test_beam_reads_repeated_letters_separated_by_blank() -> None:
    decoder = CTCDecoder(CHARSET, method="beam")
    assert decoder.decode(frames("h", "e", "l", "l", "-", "l", "o", "-")).text == "hello"


def test_all_blank_frames_read_as_empty_text() -> None:
    decoded = CTCDecoder(CHARSET).decode(frames("-", "-", "-"))
    assert decoded.text == ""
    assert decoded.char_confidences == []
    assert decoded.confidence == pytest.approx(0.9)


def test_beam_search_beats_greedy_when_the_best_path_is_not_the_best_labelling() -> None:
    # Each frame: blank 0.6, "a" 0.4. The best path is blank-blank (P=0.36, reads ""),
    # but "a" has three alignments: aa, a-, -a with P = 0.16 + 0.24 + 0.24 = 0.64.
    log_probs = frames({"-": 0.6, "a": 0.4}, {"-": 0.6, "a": 0.4})
    assert CTCDecoder(CHARSET, method="greedy").decode(log_probs).text == ""
    assert CTCDecoder(CHARSET, method="beam").decode(log_probs).text == "a"
    assert math.exp(ctc_log_likelihood(log_probs, CHARSET.encode("a"))) == pytest.approx(0.64, abs=1e-6)


def test_beam_and_greedy_agree_on_a_confident_matrix() -> None:
    log_probs = frames("t", "-", "o", "o", "-", "y", "-")
    assert CTCDecoder(CHARSET, method="beam").decode(log_probs).text == "toy"
    assert CTCDecoder(CHARSET).decode(log_probs).text == "toy"


def test_prefix_beam_search_returns_the_most_probable_labelling_of_a_small_case() -> None:
    # Over classes {blank, 1, 2} and four frames, every feasible labelling is listed.
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        log_probs = torch.randn(4, 3, generator=generator, dtype=torch.float64).mul(2).log_softmax(1).numpy()
        labellings = [[], [1], [2], [1, 1], [1, 2], [2, 1], [2, 2], [1, 2, 1], [2, 1, 2], [1, 1, 2], [1, 2, 2],
                      [2, 2, 1], [2, 1, 1], [1, 2, 1, 2], [2, 1, 2, 1], [1, 1, 1], [2, 2, 2]]
        best = max(labellings, key=lambda labels: ctc_log_likelihood(log_probs, labels))
        assert prefix_beam_search(log_probs, beam_width=50, prune=1e-9) == best


def test_greedy_char_confidence_is_the_highest_frame_probability() -> None:
    log_probs = frames({"a": 0.7}, {"a": 0.95}, "-", {"b": 0.6}, "-")
    labels, confidences = greedy_path(log_probs)
    assert CHARSET.decode(labels) == "ab"
    assert confidences == pytest.approx([0.95, 0.6])


def test_word_confidence_is_the_product_of_char_confidences() -> None:
    decoded = CTCDecoder(CHARSET).decode(frames({"a": 0.7}, "-", {"b": 0.6}, "-"))
    assert decoded.char_confidences == pytest.approx([0.7, 0.6])
    assert decoded.confidence == pytest.approx(0.42)


@pytest.mark.parametrize("method", ["greedy", "beam"])
def test_confidences_lie_in_unit_interval_and_align_with_text(method: str) -> None:
    decoder = CTCDecoder(CHARSET, method=method)
    rng = np.random.default_rng(0)
    for _ in range(20):
        log_probs = torch.from_numpy(rng.normal(0, 3, (12, CHARSET.num_classes))).log_softmax(1).numpy()
        decoded = decoder.decode(log_probs)
        assert 0.0 <= decoded.confidence <= 1.0
        assert len(decoded.char_confidences) == len(decoded.text)
        assert all(0.0 <= c <= 1.0 for c in decoded.char_confidences)


@pytest.mark.parametrize("method", ["greedy", "beam"])
def test_decoded_text_only_holds_charset_symbols(method: str) -> None:
    decoder = CTCDecoder(CHARSET, method=method)
    rng = np.random.default_rng(1)
    for _ in range(20):
        log_probs = torch.from_numpy(rng.normal(0, 3, (16, CHARSET.num_classes))).log_softmax(1).numpy()
        assert set(decoder.decode(log_probs).text) <= set(CHARSET.symbols)


def test_confident_reading_scores_higher_than_a_doubtful_one() -> None:
    decoder = CTCDecoder(CHARSET)
    sure = decoder.decode(frames({"c": 0.99}, "-", {"a": 0.99}, "-", {"t": 0.99}))
    unsure = decoder.decode(frames({"c": 0.99}, "-", {"a": 0.4, "o": 0.35}, "-", {"t": 0.99}))
    assert sure.text == unsure.text == "cat"
    assert sure.confidence > 0.95
    assert unsure.confidence < 0.5
    assert unsure.char_confidences[1] == pytest.approx(0.4)


def test_beam_char_confidences_come_from_the_best_alignment() -> None:
    log_probs = frames({"d": 0.8}, {"d": 0.9}, "-", {"o": 0.7})
    assert align_confidences(log_probs, CHARSET.encode("do")) == pytest.approx([0.9, 0.7])
    decoded = CTCDecoder(CHARSET, method="beam").decode(log_probs)
    assert decoded.text == "do"
    assert decoded.char_confidences == pytest.approx([0.9, 0.7])


def test_allowlist_reads_only_allowed_symbols() -> None:
    log_probs = frames({"o": 0.6, "d": 0.3}, "-", {"l": 0.5, "t": 0.4}, "-")
    assert CTCDecoder(CHARSET).decode(log_probs).text == "ol"
    constrained = CTCDecoder(CHARSET, allowlist="dt").decode(log_probs)
    assert constrained.text == "dt"
    assert 0.0 <= constrained.confidence <= 1.0


def test_allowlist_with_space_keeps_spaces() -> None:
    log_probs = frames("a", "-", " ", "-", "b")
    assert CTCDecoder(CHARSET, allowlist="ab ").decode(log_probs).text == "a b"
    assert CTCDecoder(CHARSET, allowlist="ab").decode(log_probs).text == "ab"


def test_allowlist_with_space_works_for_a_charset_without_letters() -> None:
    digits = Charset("0123456789 ")
    log_probs = frames("1", "-", " ", "-", {"2": 0.6, "3": 0.3}, charset=digits)
    assert CTCDecoder(digits, allowlist="13 ").decode(log_probs).text == "1 3"


def test_allowlist_unlocks_exactly_its_symbols_not_their_normal_forms() -> None:
    quotes = Charset("ab`'")
    log_probs = frames({"'": 0.6, "`": 0.3}, charset=quotes)
    assert CTCDecoder(quotes, allowlist="`").decode(log_probs).text == "`"
    assert CTCDecoder(quotes, allowlist="'").decode(log_probs).text == "'"


def test_allowlist_outside_the_charset_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the charset"):
        CTCDecoder(CHARSET, allowlist="az")


def test_lexicon_picks_the_most_likely_close_word() -> None:
    # Greedy reads "cot"; "cat" and "cut" are both one edit away, "cat" is more probable.
    log_probs = frames("c", "-", {"o": 0.45, "a": 0.35, "u": 0.15}, "-", "t")
    assert CTCDecoder(CHARSET).decode(log_probs).text == "cot"
    decoded = CTCDecoder(CHARSET, lexicon=["cut", "cat", "dog", "hello"]).decode(log_probs)
    assert decoded.text == "cat"
    assert decoded.char_confidences[1] == pytest.approx(0.35)


def test_lexicon_without_spellable_words_is_refused() -> None:
    with pytest.raises(ValueError, match="lexicon"):
        CTCDecoder(CHARSET, lexicon=["☃", ""])


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="greedy"):
        CTCDecoder(CHARSET, method="viterbi")  # type: ignore[arg-type]


def _collapse(path: tuple[int, ...]) -> list[int]:
    labels, previous = [], BLANK
    for label in path:
        if label != BLANK and label != previous:
            labels.append(label)
        previous = label
    return labels


@pytest.mark.parametrize("labels", [[], [1], [1, 1], [2, 3, 2], [1, 2, 3], [3, 3, 3]])
def test_ctc_log_likelihood_sums_every_alignment(labels: list[int]) -> None:
    """Against brute force: every path of 6 frames over 4 classes that collapses to the labels."""
    generator = torch.Generator().manual_seed(len(labels))
    log_probs = torch.randn(6, 4, generator=generator, dtype=torch.float64).log_softmax(-1).numpy()
    total = sum(
        math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
        for path in itertools.product(range(4), repeat=6)
        if _collapse(path) == labels
    )
    expected = math.log(total) if total else -math.inf
    assert ctc_log_likelihood(log_probs, labels) == pytest.approx(expected, abs=1e-5)  # float32


def test_ctc_log_likelihoods_scores_several_labellings_at_once() -> None:
    log_probs = frames("a", "-", "b", "-")
    batched = ctc_log_likelihoods(log_probs, [CHARSET.encode("ab"), CHARSET.encode("a"), []])
    assert batched.tolist() == pytest.approx(
        [ctc_log_likelihood(log_probs, CHARSET.encode(t)) for t in ("ab", "a", "")]
    )
    assert batched[0] > batched[1] > batched[2]


def test_ctc_log_likelihood_of_an_impossible_labelling_is_minus_infinity() -> None:
    log_probs = frames("a", "a")
    assert ctc_log_likelihood(log_probs, CHARSET.encode("aaa")) == -math.inf
    assert ctc_log_likelihood(log_probs, CHARSET.encode("aa")) == -math.inf  # needs a blank between
