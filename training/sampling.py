"""Mixing synthetic and real crops into width-sorted, augmented training batches."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from ocr_lstm.charset import Charset
from ocr_lstm.preprocessing import to_tensor
from training.augmentation import CropAugmenter
from training.crop_pool import CropPool, FreshCrops

SORT_GROUP = 8  # batches drawn together, sorted by width, then split: little padding


class MixedBatches:
    """Endless batches: ``real_ratio`` of each from the real pools (by weight), the rest synthetic.

    ``SORT_GROUP`` batches' worth of samples are drawn at once and sorted by
    width, so each batch is padded only to similar widths. With ``fresh``, its share of
    the synthetic draws is rendered for each group instead of read from the pool
    (in data workers: rendering costs ten times what augmenting does).
    """

    def __init__(
        self,
        synth: CropPool | None,
        real: Sequence[CropPool],
        real_weights: Sequence[float],
        real_ratio: float,
        batch_size: int,
        seed: int,
        fresh: FreshCrops | None = None,
    ) -> None:
        if synth is None and fresh is not None:
            if fresh.share < 1.0:
                raise ValueError("fresh synthetic crops below a share of 1 need a synthetic pool for the rest")
            synth = CropPool.from_crops([], fresh.preprocess.height)  # never read: every synthetic draw is fresh
        if synth is None and not real:
            raise ValueError("no training data: give a synthetic pool or real sets")
        self.pools: list[CropPool] = ([synth] if synth is not None else []) + list(real)
        self.synthetic_sources = {0} if synth is not None else set()
        weights = np.array(real_weights, dtype=np.float64)
        share_real = (real_ratio if synth is not None else 1.0) if real else 0.0
        probs = [1.0 - share_real] if synth is not None else []
        if real:
            probs += list(share_real * weights / weights.sum())
        self.probs = np.array(probs)
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.fresh = fresh
        if fresh is not None:  # the last pool holds the current group's fresh crops
            self.pools.append(CropPool.from_crops([], fresh.preprocess.height))
            self.synthetic_sources.add(len(self.pools) - 1)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        fresh_source = len(self.pools) - 1 if self.fresh is not None else -1
        while True:
            total = self.batch_size * SORT_GROUP
            sources = self.rng.choice(len(self.probs), size=total, p=self.probs)
            if self.fresh is not None:
                sources = self._render_fresh(sources, fresh_source)
            rendered = itertools.count()
            picks = [
                (int(s), next(rendered) if s == fresh_source else int(self.rng.integers(len(self.pools[s]))))
                for s in sources
            ]
            picks.sort(key=lambda p: int(self.pools[p[0]].widths[p[1]]))
            batches = [picks[i : i + self.batch_size] for i in range(0, total, self.batch_size)]
            for j in self.rng.permutation(len(batches)):
                yield batches[j]

    def _render_fresh(self, sources: np.ndarray, fresh_source: int) -> np.ndarray:
        """``sources`` with the fresh share of the synthetic draws (source 0) moved to the fresh
        pool, which is rendered anew for them. The group's batches are all materialised before
        the next group replaces it."""
        assert self.fresh is not None
        fresh = (sources == 0) & (self.rng.random(sources.size) < self.fresh.share)
        self.pools[fresh_source] = self.fresh.render(int(fresh.sum()), self.rng)
        return np.where(fresh, fresh_source, sources)

    def materialise(
        self, picks: Sequence[tuple[int, int]], charset: Charset, augmenter: CropAugmenter | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images, widths, concatenated targets, target lengths and which crops are synthetic
        (a (B,) mask) for one batch (``augmenter``: None takes the crops as stored)."""
        crops, targets, lengths = [], [], []
        synthetic = torch.tensor([source in self.synthetic_sources for source, _ in picks], dtype=torch.bool)
        for source, index in picks:
            crop = self.pools[source].crop(index)
            if augmenter is not None:
                crop = augmenter(crop, self.rng)
            encoded = charset.encode(self.pools[source].labels[index])
            crops.append(crop)
            targets.extend(encoded)
            lengths.append(len(encoded))
        images, widths = to_tensor(crops)
        return (images, widths, torch.tensor(targets, dtype=torch.long), torch.tensor(lengths, dtype=torch.long),
                synthetic)
