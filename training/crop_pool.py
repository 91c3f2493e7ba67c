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
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

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


def _render_chunk(args: tuple[int, int, SynthConfig, PreprocessConfig, str]) -> list[tuple[np.ndarray, str]]:
    seed, count, synth, preprocess, symbols = args
    generator = SynthGenerator(seed=seed, config=synth)
    charset = Charset(symbols)
    out = []
    while len(out) < count:
        image, text = generator.render()
        text = charset.clean(text)
        if text:
            out.append((resize_to_height(to_grayscale(image), preprocess), text))
    return out


def render_synthetic_pool(
    count: int,
    seed: int,
    synth: SynthConfig,
    preprocess: PreprocessConfig,
    charset: Charset,
    workers: int = 2,
    chunk: int = 2000,
) -> CropPool:
    """Render ``count`` synthetic crops with ``workers`` processes; deterministic for a seed."""
    jobs = [
        (seed * 100_003 + i, min(chunk, count - i * chunk), synth, preprocess, charset.symbols)
        for i in range(-(-count // chunk))
    ]
    crops: list[tuple[np.ndarray, str]] = []
    with mp.get_context("spawn").Pool(workers) as pool, tqdm(total=count, desc="render synth", unit="img") as bar:
        for part in pool.imap(_render_chunk, jobs):
            crops.extend(part)
            bar.update(len(part))
    return CropPool.from_crops(crops, preprocess.height)


def load_or_render_synthetic(
    cache: Path, count: int, seed: int, synth: SynthConfig, preprocess: PreprocessConfig, charset: Charset, workers: int
) -> CropPool:
    """The pool cached at ``cache`` if it matches the request, else a freshly rendered one.

    A new pool is written beside the cache and renamed into place, key last: an
    interrupted save leaves no key that matches half-written arrays, and a run
    still reading the old pool (memory-mapped) keeps its files.
    """
    styles = {k: v for k, v in asdict(synth).items() if k != "background_dirs"}
    key = {"count": count, "seed": seed, "synth": styles, "generator": GENERATOR_VERSION,
           "height": preprocess.height, "max_width": preprocess.max_width, "charset": charset.symbols}
    key = json.loads(json.dumps(key))  # tuples as lists, as the stored key reads back
    key_file = cache / "key.json"
    if key_file.is_file() and json.loads(key_file.read_text()) == key:
        return CropPool.load(cache)
    pool = render_synthetic_pool(count, seed, synth, preprocess, charset, workers)
    fresh = cache.with_name(cache.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    pool.save(fresh)
    shutil.rmtree(cache, ignore_errors=True)
    fresh.rename(cache)
    key_file.write_text(json.dumps(key))
    return CropPool.load(cache)


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
