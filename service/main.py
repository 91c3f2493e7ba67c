"""``ocr-lstm serve``: one uvicorn worker, so one model per process."""

from __future__ import annotations

import uvicorn

from ocr_lstm.checkpoint import resolve
from service.app import create_app
from service.settings import ServiceSettings


def serve(host: str = "127.0.0.1", port: int = 8000, model: str | None = None) -> None:
    """Serve the API until interrupted; ``model`` overrides ``OCR_LSTM_MODEL``."""
    settings = ServiceSettings()
    if model is not None:
        settings = settings.model_copy(update={"model": model})
    resolve(settings.model)  # a missing checkpoint is a one-line error here, not a failed startup
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
