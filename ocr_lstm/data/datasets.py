"""Labelled word-image datasets: a folder with labels.tsv, a PaddleOCR label file, or LMDB.

Every dataset yields ``(image, text)`` where ``image`` is what
:func:`ocr_lstm.preprocessing.load_image` accepts (a path or encoded bytes),
so decoding and resizing stay in one place. They are plain sequences (``len`` and
indexing), which torch's ``DataLoader`` takes as map-style datasets, so evaluating a
model with ONNX Runtime reads them without torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import lmdb
from tqdm import tqdm

from ocr_lstm.data.labels import LABEL_FILE, read_label_file
from ocr_lstm.preprocessing import ImageInput


class LabelledFolder:
    """``folder/labels.tsv`` with ``relpath<TAB>text`` lines (the layout of ``shared/data``)."""

    def __init__(self, folder: str | Path, label_file: str = LABEL_FILE) -> None:
        self.root = Path(folder)
        self.samples = read_label_file(self.root / label_file, self.root)
        self.name = self.root.name

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[ImageInput, str]:
        path, text = self.samples[index]
        return path, text


class PaddleLabelFile(LabelledFolder):
    """A PaddleOCR recognition label file: ``path<TAB>text``, paths relative to ``root``."""

    def __init__(self, label_file: str | Path, root: str | Path | None = None) -> None:
        label_file = Path(label_file)
        self.root = Path(root) if root is not None else label_file.parent
        self.samples = read_label_file(label_file, self.root)
        self.name = label_file.stem


class LmdbDataset:
    """LMDB in the deep-text-recognition-benchmark layout: ``num-samples``, ``image-%09d``, ``label-%09d`` (1-based)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self._env: lmdb.Environment | None = None
        try:
            with self._open() as env, env.begin() as txn:
                raw = txn.get(b"num-samples")
        except lmdb.Error as exc:
            raise ValueError(f"{path}: unreadable LMDB ({exc})") from exc
        if raw is None:
            raise ValueError(f"{path}: not a recognition LMDB (no 'num-samples' key)")
        try:
            self._length = int(raw)
        except ValueError:
            raise ValueError(f"{path}: 'num-samples' is not a count: {bytes(raw)[:40]!r}") from None

    def _open(self) -> lmdb.Environment:
        return lmdb.open(str(self.path), readonly=True, lock=False, readahead=False, meminit=False, max_readers=64)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[ImageInput, str]:
        if not 0 <= index < self._length:
            raise IndexError(index)
        if self._env is None:  # opened lazily so each DataLoader worker has its own handle
            self._env = self._open()
        key = index + 1
        try:
            with self._env.begin() as txn:
                image = txn.get(b"image-%09d" % key)
                label = txn.get(b"label-%09d" % key)
        except lmdb.Error as exc:
            raise ValueError(f"{self.path}: sample {key} unreadable ({exc})") from exc
        if image is None or label is None:
            raise ValueError(f"{self.path}: sample {key} missing (the LMDB claims {self._length})")
        try:
            return bytes(image), label.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{self.path}: label of sample {key} is not UTF-8") from None


def open_dataset(path: str | Path) -> LabelledFolder | LmdbDataset:
    """Pick the reader for ``path``: an LMDB folder, a folder with labels.tsv, or a label file."""
    path = Path(path)
    if path.is_dir() and (path / "data.mdb").is_file():
        return LmdbDataset(path)
    if path.is_dir() and (path / LABEL_FILE).is_file():
        return LabelledFolder(path)
    if path.is_file():
        return PaddleLabelFile(path)
    raise FileNotFoundError(f"{path}: not a dataset (expected a folder with {LABEL_FILE} or data.mdb, or a label file)")


def write_lmdb(samples: Iterable[tuple[bytes, str]], output: str | Path, map_size: int = 1 << 36) -> int:
    """Write ``(encoded_image, text)`` pairs as a recognition LMDB; returns the count."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(output), map_size=map_size)
    count = 0
    txn = env.begin(write=True)
    try:
        for count, (image, text) in enumerate(samples, start=1):
            txn.put(b"image-%09d" % count, image)
            txn.put(b"label-%09d" % count, text.encode("utf-8"))
            if count % 1000 == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.put(b"num-samples", str(count).encode())
        txn.commit()
    except lmdb.MapFullError:
        txn.abort()
        raise ValueError(f"{output}: the LMDB outgrew its map size ({map_size} bytes)") from None
    except BaseException:
        txn.abort()
        raise
    finally:
        env.close()
    return count


def folder_to_lmdb(folder: str | Path, output: str | Path) -> int:
    """Convert a labelled folder (or label file) to LMDB, storing the original encoded bytes."""
    dataset = open_dataset(folder)
    if isinstance(dataset, LmdbDataset):
        raise ValueError(f"{folder} is already an LMDB")  # noqa: TRY004 - a bad argument value, not type

    def samples() -> Iterable[tuple[bytes, str]]:
        for path, text in tqdm(dataset.samples, desc=f"lmdb {dataset.name}", unit="img"):
            yield Path(path).read_bytes(), text

    return write_lmdb(samples(), output)
