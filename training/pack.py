"""Pack what a lent GPU machine lacks into ``.gpu/`` (git-ignored), which the ``run`` call carries.

    python -m training.pack                      # or scripts/pack_gpu.sh
    python -m training.pack --data ../shared/data --output .gpu

What travels to the GPU machine is the project tree and the carried paths, 64 MiB in all,
counted on disk, and ``../shared`` does not travel. So:

- ``real.tgz``: the training sets (and the validation sets) resized once to the model's
  height as grey PNGs, the pool's own form (``prepare_crop`` with ``max_width`` 768, which
  training then reads back unchanged), renamed ``images/NNNNN.png`` in the order of their
  ``labels.tsv``, so the seeded holdouts pick the same crops. One archive: the same crops as
  loose files take twice the room on disk (a 4 KB block each).
- ``whl/``: cp312 manylinux wheels of what the GPU image lacks (and pytest), installed there with
  ``pip install --no-index --no-deps --target``; a wheel not found is listed in the manifest
  and the rest still packs.
- ``site/wordfreq``: wordfreq unpacked with its English lists only (3 MB; its wheel holds every
  language, 57 MB).
- ``fonts/`` and ``bg/``: small fonts the renderer accepts and a dozen wallpapers, downscaled
  as the renderer keeps them; the GPU image has almost none.
- ``manifest.json``: what was packed, with counts and sizes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2

from ocr_lstm.data.labels import LABEL_FILE, read_label_file
from ocr_lstm.errors import report_errors
from ocr_lstm.preprocessing import ImageDecodeError, PreprocessConfig, prepare_crop
from ocr_lstm.synth.fonts import find_fonts
from ocr_lstm.synth.generator import BACKGROUND_DIRS, load_backgrounds

TRAIN_SETS = ("iiit5k_train", "ic15_train", "svt_train", "ic13_born_digital_train", "evarest_train")
VAL_SETS = ("svt", "ic13")
PACKED_MAX_WIDTH = 768  # the GPU configs' max_width: training reads the packed crops back unchanged
WHEELS = ("ftfy", "langcodes", "locate", "lmdb", "rapidfuzz", "wcwidth", "pyclipper", "shapely",
          # and pytest, to run the CUDA tests there first (tests/training/test_cuda.py)
          "pytest", "pluggy", "iniconfig", "packaging", "pygments")
# Tried in this order: pip matches a manylinux tag exactly.
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64")
FONT_MAX_BYTES = 300_000
FONT_BUDGET = 14_000_000
WALLPAPERS = 12


def pack_set(source: Path, destination: Path, preprocess: PreprocessConfig, workers: int) -> int:
    """``source``'s crops, resized, as ``destination/images/NNNNN.png`` with a labels.tsv in the same
    order; an image that cannot be decoded is copied as it is (training skips it there as here)."""
    samples = read_label_file(source / LABEL_FILE, source)
    (destination / "images").mkdir(parents=True, exist_ok=True)
    jobs = [(path, destination / "images" / f"{i:05d}", preprocess) for i, (path, _) in enumerate(samples)]
    with mp.get_context("spawn").Pool(workers) as pool:
        names = pool.map(_pack_crop, jobs, chunksize=64)
    lines = [f"images/{name}\t{text}\n" for name, (_, text) in zip(names, samples)]
    (destination / LABEL_FILE).write_text("".join(lines), encoding="utf-8")
    return len(samples)


def _pack_crop(job: tuple[Path, Path, PreprocessConfig]) -> str:
    source, stem, preprocess = job
    try:
        crop = prepare_crop(source, preprocess)
    except ImageDecodeError:
        shutil.copyfile(source, stem.with_suffix(source.suffix))
        return stem.with_suffix(source.suffix).name
    cv2.imwrite(str(stem.with_suffix(".png")), crop, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return stem.with_suffix(".png").name


def pack_real(data: Path, output: Path, sets: Sequence[str], workers: int) -> dict[str, int]:
    """The sets in ``data`` packed into ``output/real.tgz`` (as ``real/<set>/...``)."""
    preprocess = PreprocessConfig(max_width=PACKED_MAX_WIDTH)
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in sets:
            counts[name] = pack_set(data / name, Path(tmp) / "real" / name, preprocess, workers)
        with tarfile.open(output / "real.tgz", "w:gz") as archive:
            archive.add(Path(tmp) / "real", arcname="real")
    return counts


def pack_wheels(output: Path, names: Sequence[str] = WHEELS) -> list[str]:
    """cp312 manylinux wheels of ``names`` into ``output/whl``, with pip from the configured indexes;
    the names it found none for."""
    (output / "whl").mkdir(parents=True, exist_ok=True)
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    missing = []
    for name in names:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(output / "whl"), name]
        if subprocess.run(command, capture_output=True, text=True).returncode != 0:
            missing.append(name)
    return missing


def pack_wordfreq(output: Path) -> bool:
    """wordfreq unpacked into ``output/site`` with only its English word lists; False if pip found no wheel."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   "--python-version", "3.12", "-d", tmp, "wordfreq"]
        if subprocess.run(command, capture_output=True, text=True).returncode != 0:
            return False
        wheel = next(Path(tmp).glob("wordfreq-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if not member.startswith("wordfreq/data/") or member.endswith("_en.msgpack.gz"):
                    archive.extract(member, output / "site")
    return True


def pack_fonts(output: Path, budget: int = FONT_BUDGET) -> int:
    """The renderer's fonts under ``FONT_MAX_BYTES`` each, by path, until ``budget`` bytes."""
    (output / "fonts").mkdir(parents=True, exist_ok=True)
    used, count = 0, 0
    for path_text, _ in find_fonts():
        path = Path(path_text)
        size = path.stat().st_size
        if size >= FONT_MAX_BYTES or used + size > budget:
            continue
        target = output / "fonts" / path.name
        if target.exists():
            target = output / "fonts" / f"{path.parent.name}-{path.name}"
        shutil.copyfile(path, target)
        used, count = used + size, count + 1
    return count


def pack_wallpapers(output: Path, count: int = WALLPAPERS) -> int:
    """``count`` wallpapers spread over the installed ones, as the renderer loads them (downscaled)."""
    (output / "bg").mkdir(parents=True, exist_ok=True)
    images = load_backgrounds(BACKGROUND_DIRS)
    chosen = images[:: max(1, len(images) // count)][:count]
    for i, image in enumerate(chosen):
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(output / "bg" / f"{i:02d}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return len(chosen)


def disk_usage(path: Path) -> int:
    """Bytes ``path`` takes on disk (``du``), as the device tool counts what travels."""
    return int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
               .stdout.split()[0]) * 1024


def pack(data: Path, output: Path, workers: int, wheels: bool = True) -> dict[str, Any]:
    if not all((data / name / LABEL_FILE).is_file() for name in (*TRAIN_SETS, *VAL_SETS)):
        raise FileNotFoundError(f"{data} lacks some of {', '.join((*TRAIN_SETS, *VAL_SETS))} (each with a labels.tsv)")
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    manifest: dict[str, Any] = {"sets": pack_real(data, output, (*TRAIN_SETS, *VAL_SETS), workers),
                                "max_width": PACKED_MAX_WIDTH}
    if wheels:
        manifest["missing_wheels"] = pack_wheels(output)
        manifest["wordfreq"] = pack_wordfreq(output)
    manifest["fonts"] = pack_fonts(output)
    manifest["wallpapers"] = pack_wallpapers(output)
    manifest["bytes_on_disk"] = disk_usage(output)
    (output / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data", help="folder of the labelled sets (default: %(default)s)")
    parser.add_argument("--output", default=".gpu", help="folder to (re)build (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes resizing crops")
    parser.add_argument("--no-wheels", action="store_true", help="leave out the wheels and wordfreq")
    args = parser.parse_args(argv)

    def run() -> int:
        manifest = pack(Path(args.data), Path(args.output), args.workers, wheels=not args.no_wheels)
        print(json.dumps(manifest, indent=2))
        for name in manifest.get("missing_wheels", []):
            print(f"warning: no cp312 wheel of {name} was found; the GPU run goes without it", file=sys.stderr)
        return 0

    return report_errors(run)


if __name__ == "__main__":
    sys.exit(main())
