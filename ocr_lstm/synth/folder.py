"""Synthetic words written to disk in the labelled-folder format (``ocr-lstm synth``)."""

from __future__ import annotations

from pathlib import Path

import cv2
from tqdm import tqdm

from ocr_lstm.data.labels import LABEL_FILE
from ocr_lstm.synth.generator import SynthConfig, SynthGenerator


def write_synthetic_folder(output: Path, count: int, seed: int, difficulty: float) -> Path:
    """Render ``count`` images into ``output/images`` and list them in ``output/labels.tsv``.

    Each label line is written as soon as its image is, so an interrupted run leaves a
    usable folder with every written image labelled."""
    images = output / "images"
    images.mkdir(parents=True, exist_ok=True)
    generator = SynthGenerator(seed=seed, config=SynthConfig(difficulty=difficulty))
    label_file = output / LABEL_FILE
    with label_file.open("w", encoding="utf-8") as labels:
        for i in tqdm(range(count), desc="synth", unit="img"):
            image, text = generator.render()
            name = f"images/{i:07d}.jpg"
            if not cv2.imwrite(str(output / name), image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f"could not write {output / name}")
            labels.write(f"{name}\t{text}\n")
    return label_file
