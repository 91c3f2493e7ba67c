"""Training batches, made in the training process or ahead of it in data workers (``data_workers``).

On a GPU the model's step is faster than one process can draw, augment and stack crops
(the issue-25 measurements: 14.8 k samples/s for ``small``'s step alone, 6.7 k for the
data path in one process), so a :class:`torch.utils.data.DataLoader` runs the mixed sampler
in worker processes, each with a generator of its own, and hands whole batches over
(``batch_size=None``) in pinned memory. Workers are forked where the platform allows: the
synthetic pool is memory-mapped and the real pools are plain arrays, so the children share
their pages instead of pickling them.

A worker's generator is seeded from (seed, rank, start step, worker id): the same run with
the same worker count draws the same batches, in the same order. Its state lives in the
worker, so a resumed run is reseeded (from the step it resumes at) rather than continued;
with ``data_workers = 0`` the sampler's generator is saved and a resume continues it exactly.
"""

from __future__ import annotations

import copy
import multiprocessing as mp
import os
import signal
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ocr_lstm.charset import Charset
from training.augmentation import CropAugmenter
from training.sampling import MixedBatches

# images, widths, targets, lengths, which crops are synthetic
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
PREFETCH = 4  # batches each worker keeps ready


class WorkerBatches(IterableDataset[Batch]):
    """The endless batches of one data worker: its own copy of the sampler, its own generator."""

    def __init__(
        self, sampler: MixedBatches, charset: Charset, augmenter: CropAugmenter | None, seed: Sequence[int]
    ) -> None:
        self.sampler, self.charset, self.augmenter, self.seed = sampler, charset, augmenter, tuple(seed)

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        sampler = copy.copy(self.sampler)
        sampler.pools = list(sampler.pools)  # the fresh pool is replaced per group
        sampler.fresh = replace(sampler.fresh) if sampler.fresh is not None else None  # a generator of its own
        sampler.rng = np.random.default_rng([*self.seed, info.id if info is not None else 0])
        for picks in sampler:
            yield sampler.materialise(picks, self.charset, self.augmenter)


def training_batches(
    sampler: MixedBatches,
    charset: Charset,
    augmenter: CropAugmenter | None,
    workers: int,
    seed: Sequence[int],
    pin_memory: bool = False,
) -> Generator[Batch, None, None]:
    """Endless batches: from ``workers`` processes, or with 0 from the sampler in this process
    (the path runs always took, drawing from ``sampler.rng``). Close it to end the workers."""
    if workers == 0:
        yield from (sampler.materialise(picks, charset, augmenter) for picks in sampler)
        return
    loader = DataLoader(
        WorkerBatches(sampler, charset, augmenter, seed),
        batch_size=None,
        num_workers=workers,
        pin_memory=pin_memory,
        prefetch_factor=PREFETCH,
        persistent_workers=True,
        multiprocessing_context=mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn"),
        worker_init_fn=_init_worker,
        # The loader seeds its workers' torch generators from this one, not from the global
        # generator, which the model's dropout draws from.
        generator=torch.Generator().manual_seed(int(seed[0])),
    )
    # The workers are forked here. Each should run OpenCV on one thread (the workers are the
    # parallelism: 14 of them with 16 threads each would crowd 16 cores), but setNumThreads
    # in a forked child hangs on the pool it inherited; so the parent sets one thread as it
    # forks, the children inherit that, and the parent has its own back once they run.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        iterator = iter(loader)
    finally:
        cv2.setNumThreads(threads)
    try:
        yield from iterator
    finally:
        # Now, not whenever the iterator is collected: workers left at the interpreter's exit
        # hold it up (multiprocessing joins them there).
        iterator._shutdown_workers()  # type: ignore[attr-defined]  # with workers: the multiprocessing iterator


def _init_worker(worker_id: int) -> None:
    """A process group of its own: Ctrl-C and ``timeout``'s SIGTERM reach the whole foreground
    group, and a worker that died of them would fail the training process's next batch before
    it saved its checkpoint. The training process alone answers them and then ends its workers;
    a worker whose parent died exits by itself (the DataLoader's watchdog). The handlers the
    training process set to save on those signals are not the worker's: back to the defaults."""
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
