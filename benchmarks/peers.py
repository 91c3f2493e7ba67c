"""ocr-lstm against Tesseract, EasyOCR and RapidOCR on labelled word crops, in one run.

    python benchmarks/peers.py ../shared/data/svt ../shared/data/ic13 --limit 300 [--model default]

``ocr-lstm`` is the default Recognizer (ONNX Runtime on the CPU, word prior
on), ``ocr-lstm-greedy`` the same without the word prior (what the model alone
reads) and ``ocr-lstm-torch`` the defaults on PyTorch; the ratio column compares
``ocr-lstm``'s batched crops/s with each other system's. Every system runs in its own process with the
same limits: 2 threads (``--threads``), ``OMP_WAIT_POLICY=PASSIVE`` and, for Tesseract,
``OMP_THREAD_LIMIT=1`` (its OpenMP threads do not pay for a single word). Each gets the same decoded crops
in memory (file decoding is not timed) and is timed from pixels to text, its
own preprocessing and decoding included:

* batch-1 latency: one crop per call, p50 and p90 over the crops;
* batched crops/s: all crops in one call with the system's batching
  (ocr-lstm: width-sorted batches of ``--batch-size``; EasyOCR and RapidOCR:
  width-sorted batches of ``--peer-batch`` 6, RapidOCR's default; Tesseract
  reads one crop at a time).

Accuracy (standard protocol: lower case, [0-9a-z] only), case-sensitive
accuracy and CER come from the batch-1 readings. Peers that are not installed
(``pip install -e '.[peers]'``, see ``make peers``) are skipped with a note.
The machine may be shared: compare the systems of one run, as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SYSTEMS = ("ocr-lstm", "ocr-lstm-greedy", "ocr-lstm-torch", "tesseract", "easyocr", "rapidocr")


# --- workers: each runs in a fresh process -------------------------------------------------


def _load_crops(dataset: str, limit: int | None) -> tuple[list, list[str]]:
    from ocr_lstm.data.datasets import open_dataset
    from ocr_lstm.io import load_image

    data = open_dataset(dataset)
    count = len(data) if limit is None else min(limit, len(data))
    images, labels = [], []
    for i in range(count):
        source, text = data[i]
        images.append(load_image(source))  # RGB uint8
        labels.append(text)
    return images, labels


def _ocr_lstm(args: argparse.Namespace) -> tuple[Callable, Callable, dict]:
    from ocr_lstm.predictors import Recognizer

    settings = {"ocr-lstm-greedy": {"word_prior": None}, "ocr-lstm-torch": {"backend": "torch"}}.get(args.system, {})
    recognizer = Recognizer(args.model, device="cpu", threads=args.threads, batch_size=args.batch_size, **settings)

    def one(rgb):
        return recognizer.recognize(rgb)[0].text

    def many(rgbs):
        return [r.text for r in recognizer.recognize(rgbs)]

    prior = recognizer.decoder.word_prior
    return one, many, {"model": recognizer.name, "backend": recognizer.backend, "batch": args.batch_size,
                       "word_prior": prior is not None}


def _tesseract(args: argparse.Namespace) -> tuple[Callable, Callable, dict]:
    import tesserocr
    from PIL import Image

    api = tesserocr.PyTessBaseAPI(lang="eng", psm=tesserocr.PSM.SINGLE_WORD, oem=tesserocr.OEM.LSTM_ONLY)

    def one(rgb):
        api.SetImage(Image.fromarray(rgb))
        return api.GetUTF8Text().strip()

    def many(rgbs):
        return [one(rgb) for rgb in rgbs]

    return one, many, {"version": tesserocr.tesseract_version().split()[1], "psm": 8, "oem": 1, "batch": 1}


def _easyocr(args: argparse.Namespace) -> tuple[Callable, Callable, dict]:
    import cv2
    import easyocr
    import easyocr_en_models
    import torch
    from easyocr.recognition import get_text
    from easyocr.utils import get_image_list

    torch.set_num_threads(args.threads)
    reader = easyocr.Reader(["en"], gpu=False, model_storage_directory=easyocr_en_models.model_dir(),
                            download_enabled=False, detector=False, verbose=False)
    ignore = "".join(set(reader.character) - set(reader.lang_char))

    def one(bgr):
        height, width = bgr.shape[:2]
        result = reader.recognize(bgr, horizontal_list=[[0, width, 0, height]], free_list=[], detail=0)
        return result[0] if result else ""

    def many(bgrs):
        # Reader.recognize reads boxes one by one on the CPU; batch width-sorted crops through
        # its get_text as it would on a GPU, each batch padded to its own widest crop.
        order = sorted(range(len(bgrs)), key=lambda i: bgrs[i].shape[1] / bgrs[i].shape[0])
        out = [""] * len(bgrs)
        for start in range(0, len(order), args.peer_batch):
            batch = order[start : start + args.peer_batch]
            items, widths, kept = [], [], []
            for i in batch:
                gray = cv2.cvtColor(bgrs[i], cv2.COLOR_BGR2GRAY)
                listed, max_width = get_image_list([[0, gray.shape[1], 0, gray.shape[0]]], [], gray,
                                                   model_height=easyocr.easyocr.imgH)
                if listed:
                    items += listed
                    widths.append(max_width)
                    kept.append(i)
            if not items:
                continue
            results = get_text(reader.character, easyocr.easyocr.imgH, int(max(widths)), reader.recognizer,
                               reader.converter, items, ignore, "greedy", 5, len(items),
                               0.1, 0.5, 0.003, 0, "cpu")
            for i, result in zip(kept, results):
                out[i] = result[1]
        return out

    return one, many, {"version": easyocr.__version__, "quantized": True, "batch": args.peer_batch}


def _rapidocr(args: argparse.Namespace) -> tuple[Callable, Callable, dict]:
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime import RapidOCR
    from rapidocr_onnxruntime.utils import infer_engine

    # Same thread policy as everyone: pool threads sleep instead of spinning.
    default_options = infer_engine.OrtInferSession._init_sess_opts

    def passive_options(config):
        options = default_options(config)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return options

    infer_engine.OrtInferSession._init_sess_opts = staticmethod(passive_options)
    engine = RapidOCR(intra_op_num_threads=args.threads, inter_op_num_threads=1,
                      rec_batch_num=args.peer_batch)

    def one(bgr):
        return engine.text_rec([bgr])[0][0][0]

    def many(bgrs):
        return [text for text, _ in engine.text_rec(list(bgrs))[0]]

    version = getattr(rapidocr_onnxruntime, "__version__", "1.4.4")
    return one, many, {"version": version, "model": "PP-OCRv4 rec", "batch": args.peer_batch}


LOADERS = {
    "ocr-lstm": _ocr_lstm,
    "ocr-lstm-greedy": _ocr_lstm,
    "ocr-lstm-torch": _ocr_lstm,
    "tesseract": _tesseract,
    "easyocr": _easyocr,
    "rapidocr": _rapidocr,
}


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_worker(args: argparse.Namespace) -> dict:
    images, labels = _load_crops(args.dataset, args.limit)
    if args.system in ("easyocr", "rapidocr"):  # both take OpenCV's BGR order
        images = [rgb[:, :, ::-1].copy() for rgb in images]
    one, many, info = LOADERS[args.system](args)
    for image in images[:5]:  # warm-up: lazy initialisation, allocator, caches
        one(image)
    many(images[:20])

    predictions, latencies = [], []
    for image in images:
        start = time.perf_counter()
        predictions.append(one(image))
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    batched = many(images)
    batched_seconds = time.perf_counter() - start

    from ocr_lstm.metrics import score

    scores = score(predictions, labels)
    return {
        "system": args.system,
        **info,
        **scores.as_dict(),
        "batched_agrees": sum(a == b for a, b in zip(batched, predictions)) / max(len(batched), 1),
        "p50_ms": 1000 * statistics.median(latencies),
        "p90_ms": 1000 * _percentile(latencies, 0.9),
        "crops_per_s": len(images) / batched_seconds,
    }


# --- driver -------------------------------------------------------------------------------


def _installed(system: str) -> str | None:
    """None when ``system`` can run, else why not."""
    import importlib.util

    modules = {"ocr-lstm": ["ocr_lstm"], "ocr-lstm-greedy": ["ocr_lstm"], "ocr-lstm-torch": ["ocr_lstm"],
               "tesseract": ["tesserocr"],
               "easyocr": ["easyocr", "easyocr_en_models"], "rapidocr": ["rapidocr_onnxruntime"]}[system]
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"not installed ({', '.join(missing)}; pip install -e '.[peers]')" if missing else None


def _worker_env(system: str, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    if system == "tesseract":
        env["OMP_THREAD_LIMIT"] = "1"
    return env


def flops_per_crop(model_name: str, widths: Sequence[int]) -> float:
    """Mean FLOPs (2 per multiply-add) of one crop over ``widths``, each crop alone.

    The CNN is counted by FlopCounterMode; the LSTM analytically (the counter does
    not see inside torch's fused CPU LSTM): per frame, layer and direction
    2 x 4H x (input + H) for the gate matmuls, then the head's 2 x 2H x classes.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ocr_lstm.predictors import load_checkpoint

    model = load_checkpoint(model_name).model.eval()
    config = model.config
    hidden = config.lstm_hidden
    per_frame = 2 * 2 * hidden * config.num_classes
    for layer in range(config.lstm_layers):
        inputs = model.features.out_features if layer == 0 else 2 * hidden
        per_frame += 2 * 2 * 4 * hidden * (inputs + hidden)  # two directions
    cache: dict[int, float] = {}
    for width in set(widths):
        counter = FlopCounterMode(display=False)
        with counter, torch.inference_mode():
            model.features(torch.zeros(1, 1, config.input_height, width))
        cache[width] = counter.get_total_flops() + per_frame * max(width // 4, 1)
    return sum(cache[w] for w in widths) / len(widths)


def cpu_peak_gflops(cores: int = 2) -> tuple[float, str]:
    """Peak fp32 GFLOP/s: cores x 2 AVX2 FMA pipes x 8 lanes x 2 FLOPs x clock."""
    mhz = 0.0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("cpu MHz"):
            mhz = max(mhz, float(line.split(":")[1]))
    ghz = mhz / 1000 or 2.0
    return cores * 32 * ghz, f"{cores} cores x 32 FLOP/cycle (2 AVX2 FMA x 8 fp32 x 2) x {ghz:.2f} GHz"


def _crop_widths(model_name: str, dataset: str, limit: int | None) -> list[int]:
    from ocr_lstm.data.datasets import open_dataset
    from ocr_lstm.predictors import load_checkpoint, prepare_crop

    config = load_checkpoint(model_name).preprocess
    data = open_dataset(dataset)
    count = len(data) if limit is None else min(limit, len(data))
    return [prepare_crop(data[i][0], config).shape[1] for i in range(count)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="*", help="labelled folders (labels.tsv) or label files")
    parser.add_argument("--limit", type=int, default=None, help="first N crops of each set")
    parser.add_argument("--model", default="default", help="ocr-lstm checkpoint (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32, help="ocr-lstm's batch (default: %(default)s)")
    parser.add_argument("--peer-batch", type=int, default=6,
                        help="EasyOCR's and RapidOCR's batch (default: %(default)s, their fastest)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="comma-separated subset of " + ", ".join(SYSTEMS))
    parser.add_argument("--json", type=Path, default=None, help="also write all rows to this file")
    parser.add_argument("--worker", choices=SYSTEMS, dest="system", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.system:  # a worker: one system on one set, JSON on stdout
        print(json.dumps(run_worker(args)))
        return 0
    if not args.datasets:
        parser.error("give at least one labelled folder")

    peak, peak_note = cpu_peak_gflops(args.threads)
    print(f"ocr-lstm model: {args.model}; threads: {args.threads}; "
          f"load average: {os.getloadavg()[0]:.1f}")
    rows = []
    for dataset in args.datasets:
        results: dict[str, dict] = {}
        for system in args.systems.split(","):
            why_not = _installed(system)
            if why_not:
                print(f"  {system}: skipped, {why_not}")
                continue
            command = [sys.executable, __file__, "--worker", system, "--dataset", dataset,
                       "--model", args.model, "--batch-size", str(args.batch_size),
                       "--threads", str(args.threads),
                       "--peer-batch", str(args.peer_batch)]
            command += ["--limit", str(args.limit)] if args.limit else []
            env = _worker_env(system, args.threads)
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
                print(f"  {system}: failed ({tail[0]})")
                continue
            results[system] = json.loads(done.stdout.strip().splitlines()[-1])
        ours = results.get("ocr-lstm", {}).get("crops_per_s")
        if ours:
            widths = _crop_widths(args.model, dataset, args.limit)
            flops = flops_per_crop(args.model, widths)
            results["ocr-lstm"].update(
                mflops_per_crop=flops / 1e6, mean_width=statistics.mean(widths),
                gflops_per_s=flops * ours / 1e9,
                peak_share_percent=100 * flops * ours / (peak * 1e9),
            )
        print(f"\n{Path(dataset).name}: {next(iter(results.values()), {}).get('samples', 0)} crops")
        print(f"{'system':<15} {'word acc':>8} {'case-sens':>9} {'CER':>6} {'p50 ms':>7} {'p90 ms':>7} "
              f"{'crops/s':>8} {'ocr-lstm x':>10}")
        for system, row in results.items():
            ratio = f"{ours / row['crops_per_s']:.1f}" if ours and system != "ocr-lstm" else "-"
            print(f"{system:<15} {row['word_accuracy']:>8.2f} {row['case_sensitive_accuracy']:>9.2f} "
                  f"{row['cer']:>6.3f} {row['p50_ms']:>7.1f} {row['p90_ms']:>7.1f} "
                  f"{row['crops_per_s']:>8.1f} "
                  f"{ratio:>10}")
            rows.append({"dataset": dataset, **row})
        if ours:
            row = results["ocr-lstm"]
            print(f"ocr-lstm: {row['mflops_per_crop']:.1f} MFLOPs per crop "
                  f"(mean width {row['mean_width']:.0f} px); "
                  f"batched {row['gflops_per_s']:.2f} GFLOP/s = "
                  f"{row['peak_share_percent']:.1f}% of a peak of "
                  f"{peak:.0f} GFLOP/s ({peak_note})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
