"""Where the images are: a local folder, or a folder on any filesystem pyarrow reads (``s3://``,
``gs://``, ``hdfs://`` ...), listed on the driver so that a rerun can leave out what is done
before a byte is read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs

from ocr_lstm.io import IMAGE_SUFFIXES


@dataclass(frozen=True)
class Source:
    """A folder on a filesystem; ``root`` is the folder's path as that filesystem names it."""

    filesystem: pafs.FileSystem
    root: str

    def relative(self, path: str) -> str:
        """A listed file's path relative to the folder, posix style: the rows' ``path``."""
        return path[len(self.root) :].lstrip("/")


def open_source(folder: str | Path) -> Source:
    """The folder at a local path or a URI; a missing one fails here, as in the local engine."""
    text = str(folder)
    if "://" in text:
        filesystem, root = pafs.FileSystem.from_uri(text)
    else:
        filesystem, root = pafs.LocalFileSystem(), Path(text).resolve().as_posix()
    root = root.rstrip("/") or "/"
    if filesystem.get_file_info(root).type != pafs.FileType.Directory:
        raise FileNotFoundError(f"not a folder: {folder}")
    return Source(filesystem, root)


def list_images(source: Source) -> list[str]:
    """Image files under the folder by suffix (as :func:`ocr_lstm.batch.engine.find_images`), in a stable order."""
    infos = source.filesystem.get_file_info(pafs.FileSelector(source.root, recursive=True))
    return sorted(
        info.path for info in infos
        if info.type == pafs.FileType.File and Path(info.base_name).suffix.lower() in IMAGE_SUFFIXES
    )
