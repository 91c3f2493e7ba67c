"""Pre-rendered crops in one compact on-disk array.

Rendering a synthetic word costs more CPU than a training step spends on it,
so the pool is rendered once (in parallel) and then read for free: every crop
already grayscale and resized to the model height, stored back to back in one
``uint8`` array with offsets, widths and labels beside it. Real training sets
are decoded into the same form at start-up.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ocr_lstm.charset import Charset
from ocr_lstm.data.datasets import open_dataset
from ocr_lstm.preprocessing import (
    ImageDecodeError,
    PreprocessConfig,
    prepare_crop,
    resize_to_height,
    to_grayscale,
)
from ocr_lstm.synth.generator import GENERATOR_VERSION, SynthConfig, SynthGenerator


@dataclass
class CropPool:
    """Crops of one height stored as ``data[offsets[i] : offsets[i] + height * widths[i]]``."""

    data: np.ndarray
    offsets: np.ndarray
    widths: np.ndarray
    labels: list[str]
    height: int

    def __len__(self) -> int:
        return len(self.labels)

    def crop(self, index: int) -> np.ndarray:
        start, width = int(self.offsets[index]), int(self.widths[index])
        return self.data[start : start + self.height * width].reshape(self.height, width)

    def subset(self, indices: Iterable[int]) -> CropPool:
        """A new pool holding the crops at ``indices``, in that order."""
        return CropPool.from_crops(((self.crop(int(i)), self.labels[int(i)]) for i in indices), self.height)

    @classmethod
    def from_crops(cls, crops: Iterable[tuple[np.ndarray, str]], height: int) -> CropPool:
        arrays, labels = [], []
        for crop, text in crops:
            arrays.append(crop.reshape(-1))
            labels.append(text)
        widths = np.array([a.size // height for a in arrays], dtype=np.int32)
        offsets = np.zeros(len(arrays), dtype=np.int64)
        if arrays:
            offsets[1:] = np.cumsum([a.size for a in arrays[:-1]])
        data = np.concatenate(arrays) if arrays else np.zeros(0, np.uint8)
        return cls(data, offsets, widths, labels, height)

    @classmethod
    def concatenate(cls, pools: Sequence[CropPool], height: int) -> CropPool:
        """One pool holding the crops of ``pools``, in order."""
        starts = np.cumsum([0, *(pool.data.size for pool in pools[:-1])])
        return cls(
            np.concatenate([pool.data for pool in pools]),
            np.concatenate([pool.offsets + start for pool, start in zip(pools, starts)]),
            np.concatenate([pool.widths for pool in pools]),
            [label for pool in pools for label in pool.labels],
            height,
        )

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "data.npy", self.data)
        np.save(path / "offsets.npy", self.offsets)
        np.save(path / "widths.npy", self.widths)
        (path / "meta.json").write_text(json.dumps({"height": self.height, "labels": self.labels}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> CropPool:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        return cls(
            np.load(path / "data.npy", mmap_mode="r"),
            np.load(path / "offsets.npy"),
            np.load(path / "widths.npy"),
            meta["labels"],
            meta["height"],
        )


RenderJob = tuple[int, int, SynthConfig, PreprocessConfig, str]  # seed, crops, style, preprocessing, charset

SHARD = 2000  # crops rendered by one job, and kept as one shard of a pool being rendered
RATE_PROBE = 64  # crops a render process renders first, timed, to estimate how long the rest takes


def render_crops(
    generator: SynthGenerator, count: int, preprocess: PreprocessConfig, charset: Charset
) -> list[tuple[np.ndarray, str]]:
    """``count`` rendered crops, labels cleaned to what ``charset`` spells (words left empty
    are skipped) and resized as training reads them: a pool's crops and fresh ones alike."""
    out: list[tuple[np.ndarray, str]] = []
    while len(out) < count:
        image, text = generator.render()
        text = charset.clean(text)
        if text:
            out.append((resize_to_height(to_grayscale(image), preprocess), text))
    return out


def _render_chunk(args: RenderJob) -> list[tuple[np.ndarray, str]]:
    seed, count, synth, preprocess, symbols = args
    return render_crops(SynthGenerator(seed=seed, config=synth), count, preprocess, Charset(symbols))


@dataclass
class FreshCrops:
    """Synthetic crops rendered while training (``fresh_synth``), in the process that draws them.

    The generator is made at the first render, seeded from the drawing process's own
    generator, so each data worker renders words of its own.
    """

    synth: SynthConfig
    preprocess: PreprocessConfig
    charset: Charset
    share: float  # of the synthetic draws
    generator: SynthGenerator | None = field(default=None, init=False, repr=False)

    def warm(self) -> None:
        """Render one crop here, so that the fonts, wallpapers and word list are found and read
        once: forked workers inherit them instead of each spending seconds on them."""
        render_crops(SynthGenerator(seed=0, config=self.synth), 1, self.preprocess, self.charset)

    def render(self, count: int, rng: np.random.Generator) -> CropPool:
        if self.generator is None:
            self.generator = SynthGenerator(seed=int(rng.integers(2**63)), config=self.synth)
        return CropPool.from_crops(render_crops(self.generator, count, self.preprocess, self.charset),
                                   self.preprocess.height)


def _render_jobs(count: int, seed: int, synth: SynthConfig, preprocess: PreprocessConfig, charset: Charset,
                 chunk: int = SHARD) -> list[RenderJob]:
    """Job ``i`` renders crops ``i * chunk`` on, from a seed of its own: the crops of a pool
    never depend on how many processes render it, nor on ``count`` beyond the last job's length."""
    return [(seed * 100_003 + i, min(chunk, count - i * chunk), synth, preprocess, charset.symbols)
            for i in range(-(-count // chunk))]


def load_or_render_synthetic(
    cache: Path,
    count: int,
    seed: int,
    synth: SynthConfig,
    preprocess: PreprocessConfig,
    charset: Charset,
    workers: int,
    chunk: int = SHARD,
) -> CropPool:
    """The pool cached at ``cache`` if it matches the request, else one rendered into it.

    It is rendered in shards of ``chunk`` crops into ``<cache>.parts/``, each renamed into place once written:
    Ctrl-C keeps the shards done, and the same request (or one that differs only in
    ``count``) continues from them. The whole pool is then joined beside the cache and
    renamed into place, key last: an interrupted save leaves no key that matches
    half-written arrays, and a run still reading the old pool (memory-mapped) keeps its files.
    """
    styles = {k: v for k, v in asdict(synth).items() if k != "background_dirs"}
    key = {"count": count, "seed": seed, "synth": styles, "generator": GENERATOR_VERSION,
           "height": preprocess.height, "max_width": preprocess.max_width, "charset": charset.symbols}
    key = json.loads(json.dumps(key))  # tuples as lists, as the stored key reads back
    key_file = cache / "key.json"
    if key_file.is_file() and json.loads(key_file.read_text()) == key:
        return CropPool.load(cache)
    parts = cache.with_name(cache.name + ".parts")
    jobs = _render_jobs(count, seed, synth, preprocess, charset, chunk)
    shards = _render_shards(parts, jobs, preprocess.height, workers, {k: v for k, v in key.items() if k != "count"})
    fresh = cache.with_name(cache.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    CropPool.concatenate([CropPool.load(shard) for shard in shards], preprocess.height).save(fresh)
    shutil.rmtree(cache, ignore_errors=True)
    fresh.rename(cache)
    key_file.write_text(json.dumps(key))
    shutil.rmtree(parts)
    return CropPool.load(cache)


def _render_shards(parts: Path, jobs: list[RenderJob], height: int, workers: int, key: dict[str, Any]) -> list[Path]:
    """The folder of each job's crops in ``parts``, rendering those not there yet; says first how
    many, where and for about how long. A shard is named for its job and length, so a pool of
    another ``count`` (same ``key``) reuses every shard of the same length."""
    key_file = parts / "key.json"
    if not key_file.is_file() or json.loads(key_file.read_text()) != key:
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True)
        key_file.write_text(json.dumps(key))
    shards = [parts / f"{i:05d}-{job[1]}" for i, job in enumerate(jobs)]
    todo = [(shard, job) for shard, job in zip(shards, jobs) if not shard.is_dir()]
    total, left = sum(job[1] for job in jobs), sum(job[1] for _, job in todo)
    if todo:
        kept = f" of {total:,} ({total - left:,} kept from an earlier start)" if left < total else ""
        busy = min(workers, len(todo), os.cpu_count() or 1)  # a job is one process's
        processes = f"{workers} process{'es' if workers > 1 else ''}"

        def announce(speed: RenderSpeed) -> None:
            print(f"rendering {left:,}{kept} synthetic crops into {parts} with {processes} (started in "
                  f"{speed.start_seconds:.0f} s): about {_duration(speed.seconds(left, busy))} more at the "
                  f"{speed.crops_per_second:.0f} crops/s a process renders here now; Ctrl-C keeps what is rendered "
                  "and the same command continues from it", file=sys.stderr)

        _render_into(parts, todo, height, workers, total, announce)
    return shards


def _render_into(parts: Path, todo: list[tuple[Path, RenderJob]], height: int, workers: int, total: int,
                 announce: Callable[[RenderSpeed], None]) -> None:
    """Render ``todo`` into ``parts`` with ``workers`` processes; once they have started and one
    has timed a few crops, ``announce`` how fast they go."""
    done = total - sum(job[1] for _, job in todo)
    started = time.perf_counter()
    with mp.get_context("spawn").Pool(workers, initializer=_ignore_interrupts) as pool:
        speed = pool.apply(measure_render_speed, (todo[0][1],))
        announce(replace(speed, start_seconds=time.perf_counter() - started))
        with tqdm(total=total, initial=done, desc="render synth", unit="img") as bar:
            try:
                for shard, crops in pool.imap_unordered(_render_shard, todo):
                    fresh = shard.with_name(shard.name + ".new")
                    shutil.rmtree(fresh, ignore_errors=True)
                    CropPool.from_crops(crops, height).save(fresh)
                    fresh.rename(shard)
                    bar.update(len(crops))
            except KeyboardInterrupt:
                tqdm.write(f"stopped: {bar.n:,} of {total:,} crops are kept in {parts}; the same command "
                           "continues from them", file=sys.stderr)
                raise


@dataclass(frozen=True)
class RenderSpeed:
    """How fast a render process works on this machine, as loaded as it is now."""

    start_seconds: float  # to start: Python, the imports, the fonts, wallpapers and words
    crops_per_second: float  # then, per process

    def seconds(self, crops: int, processes: int) -> float:
        """About how long ``processes`` started processes take for ``crops`` crops."""
        return crops / (self.crops_per_second * max(1, processes))


def measure_render_speed(job: RenderJob, crops: int = RATE_PROBE) -> RenderSpeed:
    """One crop, then a few more, of ``job``'s kind rendered and timed in this process (a render
    process, for the estimate): a machine's speed and load vary too much for a rate written down once."""
    seed, _, synth, preprocess, symbols = job
    start = time.perf_counter()
    generator, charset = SynthGenerator(seed=seed + 1, config=synth), Charset(symbols)
    render_crops(generator, 1, preprocess, charset)
    warm = time.perf_counter()
    render_crops(generator, crops, preprocess, charset)
    return RenderSpeed(warm - start, crops / max(time.perf_counter() - warm, 1e-6))


def _render_shard(task: tuple[Path, RenderJob]) -> tuple[Path, list[tuple[np.ndarray, str]]]:
    return task[0], _render_chunk(task[1])


def _ignore_interrupts() -> None:
    """In a render process: Ctrl-C reaches the whole process group, and the main process
    alone should answer it (it keeps the finished shards and stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds))} s" if seconds < 90 else f"{round(seconds / 60)} min"


def load_labelled_pool(
    path: str | Path,
    preprocess: PreprocessConfig,
    charset: Charset,
    clean_labels: bool = True,
    indices: Sequence[int] | None = None,
) -> CropPool:
    """Decode a labelled dataset (or the items at ``indices``) into a pool; unreadable
    images are skipped.

    For training, labels are cleaned to what the charset can spell and empty ones
    skipped. ``clean_labels=False`` keeps them as written, for validation scored
    the way ``ocr-lstm eval`` and the peers benchmark score.
    """
    dataset = open_dataset(path)
    crops = []
    chosen = range(len(dataset)) if indices is None else indices
    for i in tqdm(chosen, desc=f"load {Path(path).name}", unit="img", leave=False):
        image, text = dataset[i]
        if clean_labels:
            text = charset.clean(text)
            if not text:
                continue
        try:
            crops.append((prepare_crop(image, preprocess), text))
        except ImageDecodeError:
            continue
    return CropPool.from_crops(crops, preprocess.height)


def training_preprocess(preprocess: PreprocessConfig, max_width: int) -> PreprocessConfig:
    """The model's preprocessing with the training width bound."""
    return replace(preprocess, max_width=max_width)
