"""``ocr-lstm serve``: one uvicorn worker, so one model per process."""

from __future__ import annotations

import uvicorn

from ocr_lstm.checkpoint import check_checkpoint
from ocr_lstm.device import select_device
from ocr_lstm.errors import UnavailableError
from service.app import create_app
from service.settings import ServiceSettings, read_settings


def serve(host: str = "127.0.0.1", port: int = 8000, model: str | None = None) -> None:
    """Serve the API until interrupted; ``model`` overrides ``OCR_LSTM_MODEL``."""
    settings = read_settings()
    if model is not None:
        settings = settings.model_copy(update={"model": model})
    check_startup(settings)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=10)


def check_startup(settings: ServiceSettings) -> None:
    """Raise, in one line, what would make the lifespan fail to load the model.

    Inside uvicorn the same error is a traceback and exit code 3, after the
    server has already announced itself; here it is the command's ``error:`` line.
    """
    check_checkpoint(settings.model)
    try:
        select_device(settings.device)
    except (ValueError, UnavailableError) as exc:
        raise type(exc)(f"OCR_LSTM_DEVICE={settings.device!r}: {exc}") from None
