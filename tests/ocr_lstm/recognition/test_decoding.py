"""CTC decoding on hand-made probability matrices: greedy, beam, confidences, constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ctc_frames import CHARSET, frames

from ocr_lstm.charset import Charset
from ocr_lstm.recognition.ctc import align_confidences, ctc_log_likelihoods
from ocr_lstm.recognition.decoding import CTCDecoder, CTCReading, most_confident_turn
from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.word_prior import WordPrior, WordPriorConfig


def test_greedy_collapses_repeats_and_removes_blanks() -> None:
    decoded = CTCDecoder(CHARSET).decode(frames("-", "c", "c", "-", "a", "a", "a", "t", "-"))
    assert decoded.text == "cat"


@pytest.mark.parametrize("method", ["greedy", "beam"])
def test_a_reading_carries_the_labels_of_its_text(method: str) -> None:
    decoded = CTCDecoder(CHARSET, method=method).decode(frames("-", "c", "-", "a", "t", "-"))  # type: ignore[arg-type]
    assert decoded.text == "cat" and decoded.labels == tuple(CHARSET.encode("cat"))


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
    assert math.exp(ctc_log_likelihoods(log_probs, [CHARSET.encode("a")])[0]) == pytest.approx(0.64, abs=1e-6)


def test_beam_and_greedy_agree_on_a_confident_matrix() -> None:
    log_probs = frames("t", "-", "o", "o", "-", "y", "-")
    assert CTCDecoder(CHARSET, method="beam").decode(log_probs).text == "toy"
    assert CTCDecoder(CHARSET).decode(log_probs).text == "toy"


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


def test_the_most_confident_turn_is_kept_the_first_of_equals() -> None:
    readings = [CTCReading("l", 0.4), CTCReading("word", 0.9), CTCReading("pJom", 0.2)]
    assert most_confident_turn(readings) == 1
    assert most_confident_turn([CTCReading("a", 0.5), CTCReading("b", 0.5)]) == 0
    assert most_confident_turn([CTCReading("only", 0.1)]) == 0


def test_from_options_builds_the_decoder_the_options_describe() -> None:
    options = RecognizerOptions(decoding="beam", beam_width=3, allowlist="cat", word_prior=None)
    decoder = CTCDecoder.from_options(CHARSET, options, lexicon=["cat"])
    assert (decoder.method, decoder.beam_width, decoder.allowlist, decoder.word_prior) == ("beam", 3, "cat", None)
    assert decoder.lexicon == ["cat"]


def test_from_options_builds_the_word_prior_from_true_or_a_config() -> None:
    charset = Charset()
    default = CTCDecoder.from_options(charset, RecognizerOptions()).word_prior
    assert isinstance(default, WordPrior) and default.config == WordPriorConfig()
    strong = CTCDecoder.from_options(charset, RecognizerOptions(word_prior=WordPriorConfig(weight=2.0))).word_prior
    assert strong is not None and strong.config.weight == 2.0
    assert CTCDecoder.from_options(charset, RecognizerOptions(word_prior=False)).word_prior is None
