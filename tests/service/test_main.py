"""``ocr-lstm serve`` hands uvicorn one app on the requested address and model."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch
import uvicorn
from pydantic import ValidationError

from ocr_lstm.cli import build_parser
from ocr_lstm.cli import main as cli_main
from service import command as serve_command
from service import main as service_main
from service.protocol import GuardedH11Protocol
from service.settings import first_error


@pytest.fixture(autouse=True)
def any_port_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn never binds here, so the busy-port check (tests/service/test_serve_command.py) is
    left out: these tests use the default port, which something else on the machine may hold."""
    monkeypatch.setattr(serve_command, "check_port", lambda host, port: None)


def test_serve_runs_uvicorn_with_the_model_given(
    monkeypatch: pytest.MonkeyPatch, tiny_model_path: Path
) -> None:
    servers: list[uvicorn.Server] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: servers.append(server))
    monkeypatch.setenv("OCR_LSTM_MAX_BATCH_SIZE", "7")
    assert cli_main(["serve", "--model", str(tiny_model_path), "--port", "8123"]) == 0
    (server,) = servers
    config = server.config
    assert config.host == "127.0.0.1" and config.port == 8123
    settings = config.app.state.service.settings
    assert settings.model == str(tiny_model_path)
    assert settings.max_batch_size == 7  # the rest still comes from the environment


def test_serve_gives_uvicorn_the_timeouts_and_limits_of_the_settings(
    monkeypatch: pytest.MonkeyPatch, tiny_model_path: Path
) -> None:
    servers: list[uvicorn.Server] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: servers.append(server))
    for name, value in {"KEEP_ALIVE_S": "7", "SHUTDOWN_TIMEOUT_S": "9", "HEADER_TIMEOUT_S": "3",
                        "MAX_CONNECTIONS": "40", "DRAIN_S": "4"}.items():
        monkeypatch.setenv(f"OCR_LSTM_{name}", value)
    assert cli_main(["serve", "--model", str(tiny_model_path)]) == 0
    (server,) = servers
    config = server.config
    assert config.server_header is False
    assert config.timeout_keep_alive == 7 and config.timeout_graceful_shutdown == 9
    assert issubclass(config.http, GuardedH11Protocol)
    assert config.http.header_timeout_s == 3 and config.http.max_connections == 40
    assert isinstance(server, service_main.DrainingServer) and server.drain_s == 4


def test_serve_with_a_missing_model_is_a_one_line_error(
    never_started: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["serve", "--model", "/no/such/model"]) == 1
    assert one_error_line(capsys).startswith("error: no checkpoint at '/no/such/model'")


def copy_checkpoint(source: Path, folder: Path) -> Path:
    """The test checkpoint's two files under ``folder``, to break one of them."""
    target = folder / "copy.safetensors"
    shutil.copyfile(source, target)
    shutil.copyfile(source.with_suffix(".json"), target.with_suffix(".json"))
    return target


@pytest.fixture
def never_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvicorn.Server, "run", lambda *a, **k: pytest.fail("must not start"))


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_outside_0_to_65535_is_a_usage_error(
    port: str, never_started: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["serve", "--port", port])
    assert exit_info.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_serve_with_a_missing_json_is_a_one_line_error(
    tmp_path: Path, tiny_model_path: Path, never_started: None, capsys: pytest.CaptureFixture[str]
) -> None:
    model = copy_checkpoint(tiny_model_path, tmp_path)
    model.with_suffix(".json").unlink()
    assert cli_main(["serve", "--model", str(model)]) == 1
    assert "copy.json is missing" in one_error_line(capsys)


@pytest.mark.parametrize(
    "broken, words",
    [
        ('{"architecture": "crnn", "model": ', "not valid JSON"),
        ('{"architecture": "crnn", "model": {}, "preprocess": {}}', "not a valid checkpoint config"),
        ("[1, 2]", "not a checkpoint config"),
    ],
    ids=["truncated", "no charset", "not an object"],
)
def test_serve_with_a_corrupt_json_is_a_one_line_error(
    tmp_path: Path,
    tiny_model_path: Path,
    never_started: None,
    capsys: pytest.CaptureFixture[str],
    broken: str,
    words: str,
) -> None:
    model = copy_checkpoint(tiny_model_path, tmp_path)
    model.with_suffix(".json").write_text(broken)
    assert cli_main(["serve", "--model", str(model)]) == 1
    assert words in one_error_line(capsys)


def test_serve_with_unreadable_weights_is_a_one_line_error(
    tmp_path: Path, tiny_model_path: Path, never_started: None, capsys: pytest.CaptureFixture[str]
) -> None:
    model = copy_checkpoint(tiny_model_path, tmp_path)
    model.write_bytes(b"not safetensors at all")
    assert cli_main(["serve", "--model", str(model)]) == 1
    assert "not a readable safetensors file" in one_error_line(capsys)


def test_serve_on_cuda_without_a_gpu_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
    tiny_model_path: Path,
    never_started: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("OCR_LSTM_DEVICE", "cuda")
    assert cli_main(["serve", "--model", str(tiny_model_path)]) == 1
    expected = "error: OCR_LSTM_DEVICE='cuda': CUDA was requested but no GPU is available\n"
    assert one_error_line(capsys) == expected


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("OCR_LSTM_MAX_BATCH_SIZE", "0", "error: OCR_LSTM_MAX_BATCH_SIZE='0': Input should be greater than"),
        ("OCR_LSTM_DECODING", "psychic", "error: OCR_LSTM_DECODING='psychic': Input should be 'greedy' or"),
        ("OCR_LSTM_MAX_PENDING", "4", "error: OCR_LSTM_MAX_PENDING (4) must be at least OCR_LSTM_MAX_FILES"),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
    tiny_model_path: Path,
    never_started: None,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert cli_main(["serve", "--model", str(tiny_model_path)]) == 1
    assert one_error_line(capsys).startswith(expected)


def test_several_bad_settings_show_the_first_and_count_the_rest(
    monkeypatch: pytest.MonkeyPatch, never_started: None, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OCR_LSTM_MAX_BATCH_SIZE", "0")
    monkeypatch.setenv("OCR_LSTM_THREADS", "many")
    assert cli_main(["serve"]) == 1
    assert one_error_line(capsys).endswith("(and 1 more)\n")


def test_a_bad_api_key_value_is_never_echoed() -> None:
    error = ValidationError.from_exception_data(
        "ServiceSettings", [{"type": "string_type", "loc": ("api_key",), "input": 12345}]
    )
    assert first_error(error) == "OCR_LSTM_API_KEY: Input should be a valid string"


def test_serve_without_the_service_package_is_one_line_and_other_commands_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [name for name in sys.modules if name == "service" or name.startswith("service.")]:
        monkeypatch.setitem(sys.modules, name, None)
    assert build_parser().parse_args(["recognize", "x.png"]).command == "recognize"
    assert cli_main(["serve"]) == 1
    assert "ocr-lstm serve needs the service package" in one_error_line(capsys)
