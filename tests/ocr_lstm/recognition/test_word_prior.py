"""The word prior on hand-made CTC output: close calls go to frequent words, clear readings stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ctc_frames import CHARSET, frames

from ocr_lstm.charset import Charset
from ocr_lstm.recognition.decoding import CTCDecoder
from ocr_lstm.recognition.word_prior import (
    WordPrior,
    WordPriorConfig,
    case_variants,
    english_vocabulary,
    max_edits,
    split_edges,
)

VOCABULARY = ["hotel", "hello", "would", "today"]
ZIPF = [4.7, 4.9, 6.5, 5.9]


def prior(charset: Charset = CHARSET, **config: float) -> WordPrior:
    return WordPrior(charset, WordPriorConfig(**config), VOCABULARY, ZIPF)


# The last letter is a close call the image loses by a little: b 0.5, l 0.4.
HOTEB = frames("h", "-", "o", "-", "t", "-", "e", "-", {"b": 0.5, "l": 0.4}, "-")


def test_split_edges_keeps_punctuation_around_the_word() -> None:
    assert split_edges("(Hello!") == ("(", "Hello", "!")
    assert split_edges("word") == ("", "word", "")
    assert split_edges("...") == ("...", "", "")


def test_edits_allowed_grow_with_length() -> None:
    assert [max_edits(n) for n in (3, 4, 7, 8, 15)] == [1, 1, 1, 2, 2]


def test_case_variants_follow_the_reading() -> None:
    assert case_variants("hotel", "HOTEB") == ["HOTEL"]
    assert case_variants("hotel", "hoteb") == ["hotel"]
    assert case_variants("hotel", "Hoteb") == ["Hotel"]
    assert case_variants("hotel", "hOTeb") == ["hotel", "HOTEL", "Hotel"]


def test_a_close_call_goes_to_the_frequent_word() -> None:
    assert prior(weight=0.5).rescore(HOTEB, "hoteb", confidence=0.5) == "hotel"


def test_without_weight_the_image_decides() -> None:
    assert prior(weight=0.0).rescore(HOTEB, "hoteb", confidence=0.5) == "hoteb"


def test_a_clear_reading_outside_the_vocabulary_is_kept() -> None:
    clear = frames(*[{c: 0.99} for c in "touay"] + [{"-": 0.99}])  # one letter from "today"
    assert prior(weight=0.5).rescore(clear, "touay", confidence=0.8) == "touay"
    assert prior(weight=3.0).rescore(clear, "touay", confidence=0.8) == "today"  # a prior too strong


def test_confident_short_and_non_letter_readings_are_left_alone() -> None:
    word_prior = prior(weight=0.5, max_confidence=0.4)
    assert word_prior.rescore(HOTEB, "hoteb", confidence=0.5) == "hoteb"  # sure enough already
    assert not word_prior.applies_to("ho", 0.1)
    assert not word_prior.applies_to("hot3b", 0.1)
    assert word_prior.applies_to("(hoteb)", 0.1)


def test_the_case_of_the_winner_follows_the_image() -> None:
    charset = Charset("abcdehlotuyABCDEHLOTUY")
    upper = frames("H", "-", "O", "-", "T", "-", "E", "-", {"B": 0.5, "L": 0.4}, "-", charset=charset)
    assert prior(charset, weight=0.5).rescore(upper, "HOTEB", confidence=0.5) == "HOTEL"


def test_decoder_applies_the_prior_and_realigns_confidences() -> None:
    decoded = CTCDecoder(CHARSET, word_prior=prior(weight=0.5)).decode(HOTEB)
    assert decoded.text == "hotel"
    assert len(decoded.char_confidences) == 5
    assert decoded.char_confidences[-1] == pytest.approx(0.4)
    assert CTCDecoder(CHARSET).decode(HOTEB).text == "hoteb"


def test_vocabulary_and_zipf_must_pair_up() -> None:
    with pytest.raises(ValueError, match="one entry per word"):
        WordPrior(CHARSET, vocabulary=["hotel"], zipf=[1.0, 2.0])


def test_english_vocabulary_finds_the_word_behind_a_misreading() -> None:
    word_prior = WordPrior(Charset())
    assert len(word_prior) > 40_000
    assert "street" in word_prior.candidates("SIREET")[:3]
    assert word_prior.prior("the") > word_prior.prior("street") > word_prior.prior("qzxv")


def test_fewer_letters_per_edit_reach_further() -> None:
    assert max_edits(6) == 1 and max_edits(6, letters_per_edit=3) == 2
    loose = WordPrior(CHARSET, WordPriorConfig(letters_per_edit=2), VOCABULARY, ZIPF)
    assert "hotel" not in prior().candidates("hobeb") and "hotel" in loose.candidates("hobeb")


def test_the_english_vocabulary_is_read_back_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCR_LSTM_CACHE_DIR", str(tmp_path))
    english_vocabulary.cache_clear()
    try:
        words, zipf = english_vocabulary(300)
        assert len(words) == len(zipf) == 300 and "the" in words
        [cached] = (tmp_path / "word_prior").iterdir()
        cached.write_text(json.dumps({"words": ["hotel"], "zipf": [4.7]}))  # what a later start finds
        english_vocabulary.cache_clear()
        assert english_vocabulary(300) == (("hotel",), (4.7,))
        cached.write_text("{torn")
        english_vocabulary.cache_clear()
        assert english_vocabulary(300) == (words, zipf)  # an unreadable entry is made again
    finally:
        english_vocabulary.cache_clear()


def test_the_vocabulary_is_indexed_at_the_first_reading_that_needs_it_and_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from ocr_lstm.recognition import word_prior

    reads: list[int] = []

    def counted(size: int) -> tuple[tuple[str, ...], tuple[float, ...]]:
        reads.append(size)
        return tuple(VOCABULARY), tuple(ZIPF)

    monkeypatch.setattr(word_prior, "english_vocabulary", counted)
    lazy = WordPrior(CHARSET, WordPriorConfig())
    assert lazy.rescore(HOTEB, "hoteb", confidence=0.99) == "hoteb"  # sure of itself: no vocabulary needed
    assert reads == []
    threads = [threading.Thread(target=lazy.rescore, args=(HOTEB, "hoteb", 0.5)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lazy.rescore(HOTEB, "hoteb", confidence=0.5) == "hotel"
    assert reads == [WordPriorConfig().vocabulary_size]
