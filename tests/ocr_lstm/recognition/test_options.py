"""RecognizerOptions: the one declaration of the recognizer's options, defaults and help."""

from __future__ import annotations

from dataclasses import fields

import pytest

from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.word_prior import WordPriorConfig


def test_every_option_has_a_default_and_a_help_text() -> None:
    for option in fields(RecognizerOptions):
        assert RecognizerOptions.option(option.name) is option
        assert option.metadata["help"]
    assert RecognizerOptions().batch_size == RecognizerOptions.batch_size == 32


def test_an_unknown_option_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="colour"):
        RecognizerOptions.option("colour")


def test_as_kwargs_keeps_a_word_prior_config_whole() -> None:
    config = WordPriorConfig(weight=2.0)
    kwargs = RecognizerOptions(word_prior=config, threads=2).as_kwargs()
    assert kwargs["word_prior"] is config and kwargs["threads"] == 2
    assert set(kwargs) == {option.name for option in fields(RecognizerOptions)}
