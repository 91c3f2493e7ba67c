"""The service's recognizer settings are RecognizerOptions': the same defaults and help, and one
micro-batch of images is one batch of the Recognizer."""

from __future__ import annotations

import pytest

from ocr_lstm.recognition.options import RecognizerOptions
from service.settings import ServiceSettings

SHARED = ["device", "threads", "decoding", "word_prior", "backend"]


def test_the_recognizer_settings_default_and_read_as_the_recognizer_options() -> None:
    for name in SHARED:
        option, setting = RecognizerOptions.option(name), ServiceSettings.model_fields[name]
        assert setting.default == option.default and setting.description == option.metadata["help"]
    assert ServiceSettings.model_fields["max_batch_size"].default == RecognizerOptions.batch_size


def test_the_default_settings_give_the_default_options() -> None:
    assert ServiceSettings(_env_file=None).recognizer_options() == RecognizerOptions()


def test_a_micro_batch_is_one_recognizer_batch_of_images(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"OCR_LSTM_MAX_BATCH_SIZE": "8", "OCR_LSTM_DEVICE": "cpu", "OCR_LSTM_THREADS": "2",
                        "OCR_LSTM_DECODING": "beam", "OCR_LSTM_WORD_PRIOR": "false",
                        "OCR_LSTM_BACKEND": "torch"}.items():
        monkeypatch.setenv(name, value)
    assert ServiceSettings(_env_file=None).recognizer_options() == RecognizerOptions(
        device="cpu", batch_size=8, threads=2, decoding="beam", word_prior=False, backend="torch"
    )
