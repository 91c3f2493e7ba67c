"""``ocr-lstm ray-batch``: registered by entry point, explained by --help, one error line without Ray."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ocr_lstm.cli import main
from ocr_lstm.commands import registered_commands


def test_the_command_is_registered_through_the_entry_point_group() -> None:
    assert "ray-batch" in registered_commands()


def test_help_explains_the_cluster_options(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["ray-batch", "--help"])
    out = capsys.readouterr().out
    for option in ("--output DIR", "--address ADDR", "--photos", "--concurrency N", "--chunk N", "--batch-size",
                   "--num-gpus F", "s3://"):
        assert option in out


def test_without_ray_the_command_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    monkeypatch.delitem(sys.modules, "ray_batch.engine", raising=False)
    assert main(["ray-batch", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ocr-lstm ray-batch needs Ray: pip install 'ocr-lstm[ray]'")
