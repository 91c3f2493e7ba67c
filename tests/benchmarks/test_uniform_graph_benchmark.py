"""benchmarks/uniform_graph.py: both graphs timed on the same batches, and the uniform share counted."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from ocr_lstm.preprocessing import PreparedImage


def test_the_graphs_are_timed_and_agree(uniform_graph: ModuleType, tiny_model_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    uniform_graph.graph_times(str(tiny_model_path), [16, 48], batch=3, repeats=1)
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["16", "48"]
    assert all(float(row.split()[-1]) < 1e-4 for row in rows)  # the outputs' largest difference


def test_only_batches_of_one_width_count_as_uniform(uniform_graph: ModuleType) -> None:
    def image(*widths: int) -> PreparedImage:
        return PreparedImage(tuple(np.zeros((32, w), np.uint8) for w in widths))

    prepared = [image(40), image(40), image(44), image(40, 144, 144)]  # the last one tall: three turns
    assert uniform_graph.uniform_share(prepared, chunk=4, batch_size=2, columns=1024) == pytest.approx(2 / 4)
    assert uniform_graph.uniform_share(prepared, chunk=1, batch_size=2, columns=1024) == pytest.approx(3 / 4)
