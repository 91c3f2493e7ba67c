"""``ocr-lstm serve`` hands uvicorn one app on the requested address and model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocr_lstm.cli import main as cli_main
from service import main as service_main


def test_serve_runs_uvicorn_with_the_model_given(
    monkeypatch: pytest.MonkeyPatch, tiny_model_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        service_main.uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs})
    )
    monkeypatch.setenv("OCR_LSTM_MAX_BATCH_SIZE", "7")
    assert cli_main(["serve", "--model", str(tiny_model_path), "--port", "8123"]) == 0
    (call,) = calls
    assert call["host"] == "127.0.0.1" and call["port"] == 8123
    settings = call["app"].state.service.settings
    assert settings.model == str(tiny_model_path)
    assert settings.max_batch_size == 7  # the rest still comes from the environment


def test_serve_with_a_missing_model_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(service_main.uvicorn, "run", lambda *a, **k: pytest.fail("must not start"))
    assert cli_main(["serve", "--model", "/no/such/model"]) == 1
    assert capsys.readouterr().err.startswith("error: no checkpoint at '/no/such/model'")
