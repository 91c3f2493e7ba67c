"""Fixed, seeded splits of a labelled set: training holds out crops that tuning and comparisons score on."""

from __future__ import annotations

import numpy as np


def holdout_split(size: int, holdout: int, seed: int) -> tuple[list[int], list[int]]:
    """Indices (kept, held out) of a set of ``size`` items: ``holdout`` chosen at random
    by ``seed``, both sorted; the same arguments always give the same split."""
    if not 0 <= holdout < size:
        raise ValueError(f"cannot hold out {holdout} of {size} crops: keep at least one for training")
    order = np.random.default_rng(seed).permutation(size)
    return sorted(order[holdout:].tolist()), sorted(order[:holdout].tolist())
