"""A command's errors: the user's end in one line and exit 1; anything else keeps its traceback."""

from __future__ import annotations

import pytest

from ocr_lstm.errors import UnavailableError, report_errors


def fail(error: BaseException) -> int:
    raise error


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError("data/x: no such folder"),
        ValueError("bad"),
        ImportError("no lmdb"),
        UnavailableError("no GPU"),
    ],
)
def test_a_user_error_is_one_line_and_exit_1(error: Exception, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_errors(lambda: fail(error)) == 1
    assert capsys.readouterr().err == f"error: {error}\n"


def test_interrupt_is_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_errors(lambda: fail(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_a_crash_keeps_its_traceback() -> None:
    """torch's RuntimeErrors (out of memory, shape or NCCL failures) are crashes, not input errors."""
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        report_errors(lambda: fail(RuntimeError("CUDA out of memory")))
    with pytest.raises(ZeroDivisionError):
        report_errors(lambda: fail(ZeroDivisionError()))


def test_success_passes_the_exit_code_through() -> None:
    assert report_errors(lambda: 0) == 0
