"""``ocr-lstm serve``: one uvicorn worker, so one model per process."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from types import FrameType

import uvicorn

from ocr_lstm.predictors import UnavailableError, check_checkpoint, device_name
from service.app import create_app
from service.protocol import guarded_h11
from service.settings import ServiceSettings, read_settings
from service.state import ServiceState


def serve(host: str = "127.0.0.1", port: int = 8000, model: str | None = None) -> None:
    """Serve the API until interrupted; ``model`` overrides ``OCR_LSTM_MODEL``."""
    settings = read_settings()
    if model is not None:
        settings = settings.model_copy(update={"model": model})
    check_startup(settings)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        http=guarded_h11(settings.header_timeout_s, settings.max_connections, settings.max_upload_bytes),
        server_header=False,
        timeout_keep_alive=settings.keep_alive_s,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )
    DrainingServer(config, app.state.service, settings.drain_s).run()


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a drain before its graceful shutdown.

    On the first SIGTERM (what orchestrators send) ``/readyz`` turns 503 and every response
    closes its connection, while requests are still accepted and served for ``drain_s``, so a
    balancer polling readiness stops sending here before the listening socket closes. Then
    uvicorn's own shutdown: no new connections, the requests in flight finish (for at most
    ``timeout_graceful_shutdown``), the lifespan stops the model queue, and the process exits. Ctrl-C
    (SIGINT) skips the drain; a second signal ends it.
    """

    def __init__(self, config: uvicorn.Config, state: ServiceState, drain_s: float) -> None:
        super().__init__(config)
        self.state = state
        self.drain_s = drain_s
        self._drain_ends: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain_ends is None:
            self.state.draining = True
            self._drain_ends = time.monotonic() + (self.drain_s if sig == signal.SIGTERM else 0.0)
        else:
            self._drain_ends = 0.0
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, but a SIGTERM that drained cleanly ends the process with status 0, as orchestrators count a
        success, instead of being raised again once the server has shut down (status 143)."""
        with super().capture_signals():
            yield
            if not self.force_exit:
                # uvicorn's list of the signals it will raise again when the block ends.
                self._captured_signals = [sig for sig in self._captured_signals if sig != signal.SIGTERM]

    async def on_tick(self, counter: int) -> bool:
        stop = await super().on_tick(counter)
        return stop and (self.force_exit or time.monotonic() >= (self._drain_ends or 0.0))


def check_startup(settings: ServiceSettings) -> None:
    """Raise, in one line, what would make the lifespan fail to load the model.

    Inside uvicorn the same error is a traceback and exit code 3, after the
    server has already announced itself; here it is the command's ``error:`` line.
    """
    check_checkpoint(settings.model)
    try:
        device_name(settings.device)
    except (ValueError, UnavailableError) as exc:
        raise type(exc)(f"OCR_LSTM_DEVICE={settings.device!r}: {exc}") from None
