"""A command's errors: expected ones end in one line and exit 1; others keep their traceback."""

from __future__ import annotations

import pytest

from ocr_lstm.command_errors import report_errors


def fail(error: BaseException) -> int:
    raise error


def test_an_expected_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_errors(lambda: fail(FileNotFoundError("data/x: no such folder"))) == 1
    assert capsys.readouterr().err == "error: data/x: no such folder\n"


def test_interrupt_is_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_errors(lambda: fail(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_an_unexpected_error_keeps_its_traceback() -> None:
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        report_errors(lambda: fail(RuntimeError("CUDA out of memory")), expected=(ValueError, OSError))
    with pytest.raises(ZeroDivisionError):
        report_errors(lambda: fail(ZeroDivisionError()))


def test_success_passes_the_exit_code_through() -> None:
    assert report_errors(lambda: 0) == 0
