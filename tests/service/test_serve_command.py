"""``ocr-lstm serve``'s own checks, made before the model loads."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocr_lstm.cli import main as cli_main
from service import main as service_main
from service.command import check_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another server listens on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_busy_port_is_one_line_before_the_model_loads(
    busy_port: int, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(**kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(service_main, "serve", never)
    assert cli_main(["serve", "--port", str(busy_port), "--model", str(tiny_model_path)]) == 1
    assert capsys.readouterr().err == (f"error: port {busy_port} on 127.0.0.1 is in use (another ocr-lstm serve?): "
                                       "stop that server or choose another --port\n")


def test_a_free_port_can_be_bound_again_after_the_check() -> None:
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]
    check_port("127.0.0.1", port)
    with socket.socket() as server:  # the check let it go
        server.bind(("127.0.0.1", port))
        server.listen()


def test_an_address_this_machine_does_not_have_is_one_line() -> None:
    with pytest.raises(OSError, match=r"^cannot listen on 192\.0\.2\.1 port 8000: "):
        check_port("192.0.2.1", 8000)  # TEST-NET-1, never a local address
