"""Settings come from OCR_LSTM_* environment variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ocr_lstm.checkpoint import DEFAULT_MODEL
from service.settings import ServiceSettings


def test_defaults_serve_the_bundled_model_with_batching_on() -> None:
    settings = ServiceSettings(_env_file=None)
    assert settings.model == DEFAULT_MODEL
    assert settings.max_batch_size > 1 and settings.max_wait_ms > 0
    assert settings.api_key is None and settings.cors_origins == []


def test_environment_variables_set_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "OCR_LSTM_MODEL": "/models/mine",
        "OCR_LSTM_DEVICE": "cpu",
        "OCR_LSTM_THREADS": "2",
        "OCR_LSTM_MAX_BATCH_SIZE": "8",
        "OCR_LSTM_MAX_WAIT_MS": "3.5",
        "OCR_LSTM_MAX_UPLOAD_BYTES": "1000",
        "OCR_LSTM_MAX_PIXELS": "5000",
        "OCR_LSTM_MAX_FILES": "4",
        "OCR_LSTM_API_KEY": "k",
        "OCR_LSTM_CORS_ORIGINS": "https://a.example, https://b.example",
        "OCR_LSTM_REQUEST_TIMEOUT_S": "9",
        "OCR_LSTM_MAX_ASPECT_RATIO": "50",
        "OCR_LSTM_DECODING": "beam",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = ServiceSettings(_env_file=None)
    assert settings.model == "/models/mine" and settings.device == "cpu" and settings.threads == 2
    assert settings.max_batch_size == 8 and settings.max_wait_ms == 3.5
    assert settings.max_upload_bytes == 1000 and settings.max_pixels == 5000 and settings.max_files == 4
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "k"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.request_timeout_s == 9 and settings.max_aspect_ratio == 50 and settings.decoding == "beam"


def test_the_api_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCR_LSTM_API_KEY", "hunter2")
    assert "hunter2" not in repr(ServiceSettings(_env_file=None))


def test_an_empty_api_key_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCR_LSTM_API_KEY", "")
    assert ServiceSettings(_env_file=None).api_key is None


@pytest.mark.parametrize(
    "name,value",
    [
        ("OCR_LSTM_MAX_BATCH_SIZE", "0"),
        ("OCR_LSTM_MAX_WAIT_MS", "-1"),
        ("OCR_LSTM_DECODING", "psychic"),
        ("OCR_LSTM_MAX_FILES", "many"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ServiceSettings(_env_file=None)


def test_max_pending_bounds_the_queue_and_holds_at_least_one_full_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ServiceSettings(_env_file=None).max_pending >= ServiceSettings(_env_file=None).max_files
    monkeypatch.setenv("OCR_LSTM_MAX_PENDING", "40")
    assert ServiceSettings(_env_file=None).max_pending == 40
    monkeypatch.setenv("OCR_LSTM_MAX_FILES", "41")
    with pytest.raises(ValidationError, match=r"OCR_LSTM_MAX_PENDING \(40\) must be at least"):
        ServiceSettings(_env_file=None)


def test_the_pixels_in_flight_hold_at_least_one_full_request(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = ServiceSettings(_env_file=None)
    # A photo costs its reading size (a larger one is decoded at most that large): one fits a request.
    assert defaults.max_pending_pixels >= defaults.max_request_pixels >= defaults.photo_read_pixels
    assert defaults.max_request_pixels > defaults.max_crop_pixels and defaults.max_pixels >= defaults.photo_read_pixels
    monkeypatch.setenv("OCR_LSTM_MAX_REQUEST_PIXELS", "2000")
    monkeypatch.setenv("OCR_LSTM_MAX_PENDING_PIXELS", "1999")
    with pytest.raises(ValidationError, match=r"OCR_LSTM_MAX_PENDING_PIXELS \(1999\) must be at least"):
        ServiceSettings(_env_file=None)


@pytest.mark.parametrize("name", ["OCR_LSTM_MAX_PENDING_LARGE_PIXELS", "OCR_LSTM_MAX_PENDING_PHOTO_PIXELS"])
def test_each_pixel_budget_holds_at_least_one_full_request(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("OCR_LSTM_MAX_REQUEST_PIXELS", "2000")
    monkeypatch.setenv(name, "1999")
    with pytest.raises(ValidationError, match=rf"{name} \(1999\) must be at least OCR_LSTM_MAX_REQUEST_PIXELS"):
        ServiceSettings(_env_file=None)


def test_the_lines_in_flight_hold_at_least_one_capped_photo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCR_LSTM_MAX_PHOTO_LINES", "2000")
    with pytest.raises(ValidationError, match=r"OCR_LSTM_MAX_PENDING_LINES \(1024\) must be at least"):
        ServiceSettings(_env_file=None)

