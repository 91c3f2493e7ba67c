"""``ocr-lstm synth --count N --output DIR``: write synthetic word images in the folder format."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
from tqdm import tqdm

from ocr_lstm.commands.argtypes import positive_int
from ocr_lstm.data.labels import LABEL_FILE
from ocr_lstm.synth.generator import SynthConfig, SynthGenerator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=positive_int, required=True, help="number of images")
    parser.add_argument("--output", type=Path, required=True, help="folder for images/ and labels.tsv")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same images (default: %(default)s)")
    parser.add_argument("--difficulty", type=float, default=SynthConfig.difficulty,
                        help="0 clean .. 1 heavily degraded (default: %(default)s)")


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


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.difficulty <= 1.0:
        raise ValueError("--difficulty must lie in [0, 1]")
    label_file = write_synthetic_folder(args.output, args.count, args.seed, args.difficulty)
    print(f"{args.count} images -> {label_file}")
    return 0
