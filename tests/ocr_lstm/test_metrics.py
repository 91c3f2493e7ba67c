"""Recognition metrics under the standard protocol, on known examples."""

from __future__ import annotations

import pytest

from ocr_lstm.metrics import reads_right, score, standard_form


def test_standard_form_lowercases_and_keeps_only_digits_and_latin_letters() -> None:
    assert standard_form("Hello, World! 42") == "helloworld42"
    assert standard_form("it's-CAFÉ") == "itscaf"


def test_a_reading_is_right_when_its_standard_form_matches() -> None:
    assert reads_right("Hello!", "HELLO") and reads_right("it's", "ITS")
    assert not reads_right("Hell0", "HELLO") and not reads_right("", "a")


def test_word_accuracy_ignores_case_and_punctuation() -> None:
    scores = score(["HELLO", "world!", "foo"], ["hello", "World", "bar"])
    assert scores.samples == 3
    assert scores.word_accuracy == pytest.approx(200 / 3)


def test_case_sensitive_accuracy_needs_an_exact_match() -> None:
    scores = score(["Hello", "hello", "a-b"], ["Hello", "Hello", "a-b"])
    assert scores.case_sensitive_accuracy == pytest.approx(200 / 3)
    assert scores.word_accuracy == pytest.approx(100.0)


def test_cer_is_total_edits_over_total_label_characters() -> None:
    # "kitten" -> "sitting": 3 edits; "abcd" -> "abd": 1 edit; 7 + 4 label characters.
    scores = score(["kitten", "abd"], ["sitting", "abcd"])
    assert scores.cer == pytest.approx(4 / 11)


def test_perfect_predictions_score_full_marks() -> None:
    scores = score(["a", "Bc"], ["a", "Bc"])
    assert (scores.word_accuracy, scores.case_sensitive_accuracy, scores.cer) == (100.0, 100.0, 0.0)


def test_empty_set_scores_zero() -> None:
    scores = score([], [])
    assert (scores.samples, scores.word_accuracy, scores.case_sensitive_accuracy, scores.cer) == (0, 0.0, 0.0, 0.0)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        score(["a"], [])


def test_as_dict_names_every_score() -> None:
    assert set(score(["a"], ["a"]).as_dict()) == {"samples", "word_accuracy", "case_sensitive_accuracy", "cer"}
