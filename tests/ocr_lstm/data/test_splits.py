"""Held-out splits: disjoint, complete, fixed by the seed, never empty on the training side."""

from __future__ import annotations

import pytest

from ocr_lstm.data.splits import holdout_split


def test_holdout_split_is_disjoint_complete_and_fixed_by_the_seed() -> None:
    kept, held = holdout_split(100, 20, seed=3)
    assert len(held) == 20 and len(kept) == 80
    assert sorted([*kept, *held]) == list(range(100))
    _, again_held = holdout_split(100, 20, seed=3)
    assert held == again_held
    assert held != holdout_split(100, 20, seed=4)[1]


@pytest.mark.parametrize("holdout", [-1, 10, 11])
def test_holdout_must_leave_something_to_train_on(holdout: int) -> None:
    with pytest.raises(ValueError, match="hold out"):
        holdout_split(10, holdout, seed=0)
