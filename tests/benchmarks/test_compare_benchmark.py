"""benchmarks/compare.py: two models on the same crops, and the paired standard error."""

from __future__ import annotations

import math
from pathlib import Path

import pytest


def test_paired_score_counts_the_crops_only_one_model_reads(compare) -> None:
    baseline = [True, True, False, False, True]
    candidate = [True, False, True, True, True]
    row = compare.paired_score(baseline, candidate)
    assert (row.n, row.baseline_right, row.candidate_right, row.only_baseline, row.only_candidate) == (5, 3, 4, 1, 2)
    assert row.difference == pytest.approx(20.0)
    # per-crop differences 0, -1, 1, 1, 0: mean 0.2, sample-free SE sqrt(var / n) with var = 0.56
    assert row.standard_error == pytest.approx(100 * math.sqrt(0.56 / 5), rel=1e-9)


def test_identical_readings_differ_by_nothing(compare) -> None:
    row = compare.paired_score([True, False, True], [True, False, True])
    assert row.difference == 0.0 and row.standard_error == 0.0


def test_different_crops_are_refused(compare) -> None:
    with pytest.raises(ValueError, match="same crops"):
        compare.paired_score([True], [True, False])


def test_a_model_against_itself_on_rendered_sets(compare, tiny_model_path: Path, rendered_sets: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    model = str(tiny_model_path)
    assert compare.main([model, "--baseline", model, "--data", str(rendered_sets), "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"svt", "ic13", "all"}  # no ic15_train here: no dev row
    assert [rows[name][1] for name in ("svt", "ic13", "all")] == ["2", "3", "5"]
    assert all(rows[name][4] == "+0.00" for name in rows)


def test_missing_data_is_skipped_not_failed(compare, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert compare.main(["default", "--data", str(tmp_path / "absent")]) == 0
    assert capsys.readouterr().out.startswith("skipped:")
