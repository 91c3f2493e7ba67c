"""Label files: ``path<TAB>text`` per line (our folders and PaddleOCR's format)."""

from __future__ import annotations

from pathlib import Path

LABEL_FILE = "labels.tsv"


def read_label_file(label_file: str | Path, root: str | Path | None = None) -> list[tuple[Path, str]]:
    """``(image_path, text)`` pairs; relative paths resolve against ``root`` (default: the file's folder).

    Lines without a tab or with an empty path are reported with their number,
    so a broken label file fails loudly instead of training on half of it.
    """
    label_file = Path(label_file)
    base = Path(root) if root is not None else label_file.parent
    samples: list[tuple[Path, str]] = []
    for number, line in enumerate(label_file.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        path, sep, text = line.partition("\t")
        if not sep or not path:
            raise ValueError(f"{label_file}:{number}: expected 'path<TAB>text', got {line!r}")
        image = Path(path)
        samples.append((image if image.is_absolute() else base / image, text))
    return samples
