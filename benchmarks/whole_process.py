"""The whole job as a user runs it: one process per system, from start to the last row written.

    python benchmarks/whole_process.py FOLDER [--photos SCENES] [--repeats 3] [--threads 2]

Crops: ``ocr-lstm batch FOLDER --output ...`` against RapidOCR 1.4.4's recognizer and EasyOCR's,
each reading every image under FOLDER with OpenCV, in chunks of 256, width-sorted batches of 6
(their fastest, ``benchmarks/peers.py``), writing a JSONL row per image. Photos (``--photos``):
``ocr-lstm batch SCENES --photos`` against RapidOCR 3.10's own pipeline (detection, orientation,
recognition) over the photos of a scene folder. Each system runs as its own process with the
same threads, ``OMP_WAIT_POLICY=PASSIVE`` and ONNX Runtime without spin-waiting, ``--repeats``
times; the best wall time counts. Also printed: the peak RSS of that process (``wait4``) and the
time to a first reading, a fresh process reading one image (``ocr-lstm recognize IMAGE``).

The first ocr-lstm start on a machine exports the model to ONNX (:mod:`ocr_lstm.recognition.runtime.
onnx_cache`); a warm-up run before the timed ones keeps that one-off out of the figures.
Peers that are not installed (``make peers``) are skipped with a note. The machine may be
shared: compare the systems of one run, as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
CROP_SYSTEMS = ("ocr-lstm", "rapidocr", "easyocr")
PHOTO_SYSTEMS = ("ocr-lstm", "rapidocr")
CHUNK = 256


# --- workers: a peer's whole job, in the process the driver starts ---------------------------------
# A worker reads the images a listing file names, one path a line: the driver lists the folder
# once, as `ocr-lstm batch` does (ocr_lstm.batch.engine.find_images), so every system reads the
# same images and no peer's time includes ocr-lstm's imports.


def listed(listing: Path) -> list[Path]:
    return [Path(line) for line in listing.read_text(encoding="utf-8").splitlines()]


def peer_crops(system: str, listing: Path, output: Path, threads: int, batch: int) -> None:
    """Read every crop ``listing`` names with a peer's recognizer (peers.py's set-up), rows to ``output``."""
    import cv2

    sys.path.insert(0, str(BENCHMARKS))
    from peers import LOADERS

    _, many, _ = LOADERS[system](argparse.Namespace(threads=threads, peer_batch=batch))
    paths = listed(listing)
    with output.open("w", encoding="utf-8") as rows:
        for start in range(0, len(paths), CHUNK):
            chunk = paths[start : start + CHUNK]
            images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in chunk]
            readable = [i for i, image in enumerate(images) if image is not None]
            texts = dict(zip(readable, many([images[i] for i in readable])))
            for i, path in enumerate(chunk):
                rows.write(json.dumps({"path": path.name, "text": texts.get(i)}) + "\n")


def rapidocr_photos(listing: Path, output: Path, threads: int) -> None:
    """Read every photo ``listing`` names with RapidOCR 3.10's whole pipeline, a row per photo."""
    from rapidocr import RapidOCR

    engine = RapidOCR(params={
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "Global.log_level": "critical",
    })
    with output.open("w", encoding="utf-8") as rows:
        for path in listed(listing):
            result = engine(str(path))
            rows.write(json.dumps({"path": path.name, "text": " ".join(result.txts or ())}) + "\n")


# --- driver ----------------------------------------------------------------------------------------


def worker_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    return env


def command(
    system: str, source: Path, listing: Path, output: Path, args: argparse.Namespace, photos: bool
) -> list[str]:
    """The process that reads ``source`` (a folder, or one image) with ``system``: ocr-lstm's own
    command, or a peer's worker reading the images ``listing`` names (those of ``source``)."""
    threads = str(args.threads)
    if system == "ocr-lstm":
        cli = [sys.executable, "-m", "ocr_lstm.cli"]
        if source.is_file():
            return [*cli, "ocr" if photos else "recognize", str(source), "--threads", threads, "--model", args.model]
        extra = ["--photos"] if photos else []
        return [*cli, "batch", str(source), "--output", str(output), "--overwrite", "--threads", threads,
                "--model", args.model, *extra]
    worker = [sys.executable, str(Path(__file__).resolve()), "--worker", system, str(listing), str(output),
              "--threads", threads, "--peer-batch", str(args.peer_batch)]
    return [*worker, "--photo-worker"] if photos else worker


def timed(argv: list[str], threads: int) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process, which must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=worker_env(threads), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed ({process.returncode}): {errors.decode()[-500:]}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def installed(system: str, photos: bool) -> str | None:
    """None when ``system`` can run, else why not."""
    import importlib.util

    modules = {"ocr-lstm": ["ocr_lstm"], "easyocr": ["easyocr", "easyocr_en_models"],
               "rapidocr": ["rapidocr"] if photos else ["rapidocr_onnxruntime"]}[system]
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"not installed ({', '.join(missing)}; make peers)" if missing else None


def measure(system: str, folder: Path, args: argparse.Namespace, photos: bool) -> dict:
    from ocr_lstm.io import find_images

    with tempfile.TemporaryDirectory() as scratch:
        images = find_images(folder)
        every, first = Path(scratch) / "images.txt", Path(scratch) / "first.txt"
        every.write_text("".join(f"{path}\n" for path in images), encoding="utf-8")
        first.write_text(f"{images[0]}\n", encoding="utf-8")
        output = Path(scratch) / "rows.jsonl"
        run = command(system, folder, every, output, args, photos)
        if system == "ocr-lstm":
            timed(run, args.threads)  # warm-up: the machine's first start exports the model once
        runs = [timed(run, args.threads) for _ in range(args.repeats)]
        rows = sum(1 for _ in output.open(encoding="utf-8"))
        one = command(system, images[0], first, Path(scratch) / "one.jsonl", args, photos)
        to_first = min(timed(one, args.threads)[0] for _ in range(args.repeats))
    seconds, rss = min(runs)
    return {"system": system, "images": rows, "best_s": seconds, "all_s": [round(s, 2) for s, _ in runs],
            "peak_rss_mb": rss, "images_per_s": rows / seconds, "first_reading_s": to_first}


def print_table(title: str, results: list[dict]) -> None:
    ours = next((r for r in results if r["system"] == "ocr-lstm"), None)
    print(f"\n{title}\n")
    print("| system | images | best s (all) | images/s | ocr-lstm x | peak RSS MB | first reading s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        ratio = f"{r['best_s'] / ours['best_s']:.1f}" if ours and r is not ours else "-"
        runs = ", ".join(f"{s:.1f}" for s in r["all_s"])
        print(f"| {r['system']} | {r['images']} | {r['best_s']:.1f} ({runs}) | {r['images_per_s']:.0f} | {ratio} | "
              f"{r['peak_rss_mb']:.0f} | {r['first_reading_s']:.2f} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?",
                        help="a folder of word crops (searched recursively); a worker's listing file")
    parser.add_argument("--photos", type=Path, default=None, help="a folder of whole photos (e.g. a scene set)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per system; the best counts")
    parser.add_argument("--threads", type=int, default=2, help="threads for every system")
    parser.add_argument("--peer-batch", type=int, default=6, help="RapidOCR's and EasyOCR's recognition batch")
    parser.add_argument("--model", default="default", help="ocr-lstm's checkpoint")
    parser.add_argument("--systems", nargs="+", default=list(CROP_SYSTEMS), choices=CROP_SYSTEMS)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--worker", choices=CROP_SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--photo-worker", action="store_true", help=argparse.SUPPRESS)  # its listing names photos
    parser.add_argument("output", type=Path, nargs="?", help=argparse.SUPPRESS)  # a worker's rows
    args = parser.parse_args(argv)

    if args.worker:
        if args.worker == "rapidocr" and args.photo_worker:
            rapidocr_photos(args.folder, args.output, args.threads)
        else:
            peer_crops(args.worker, args.folder, args.output, args.threads, args.peer_batch)
        return 0

    report: dict[str, list[dict]] = {}
    sets = [("crops", args.folder, False, args.systems)] if args.folder else []
    if args.photos:
        sets.append(("photos", args.photos, True, [s for s in args.systems if s in PHOTO_SYSTEMS]))
    if not sets:
        parser.error("give a folder of crops, --photos, or both")
    for name, folder, photos, systems in sets:
        results = []
        for system in systems:
            if (why := installed(system, photos)) is not None:
                print(f"{system}: skipped, {why}", file=sys.stderr)
                continue
            print(f"{name}: {system} ...", file=sys.stderr, flush=True)
            results.append(measure(system, folder, args, photos))
            print(f"  {json.dumps(results[-1])}", file=sys.stderr, flush=True)  # kept if a later one fails
        report[name] = results
        print_table(f"{name}: {folder} ({args.threads} threads, best of {args.repeats})", results)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
