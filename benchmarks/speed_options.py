"""ocr-lstm's CPU speed options, measured side by side on the same crops.

    python benchmarks/speed_options.py ../shared/data/svt ../shared/data/ic13 --limit 300 [--model default]
    python benchmarks/speed_options.py ... --options default,onnx,int8   # a subset

Crops are decoded and resized once; each option is then timed from resized
crops to text (model and CTC decoding) with width-sorted batches, in
``--rounds`` interleaved rounds (median kept), so a busy machine slows every
option alike. Reported per option: batched crops/s and its ratio to
``default`` (the Recognizer's defaults), crops per CPU-second of the process
(less sensitive to a neighbour's load, but blind to idle threads), batch-1 p50 latency over the first
``--latency-crops`` crops, and word accuracy (standard protocol) on all crops,
which shows whether an option changes the readings (int8).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

import ocr_lstm.recognizer as recognizer_module
from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.data.datasets import open_dataset
from ocr_lstm.metrics import score
from ocr_lstm.preprocessing import to_tensor
from ocr_lstm.recognizer import Recognizer

BUCKET = 64


def _bucketed_to_tensor(crops: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Like to_tensor, but the batch is padded up to a multiple of BUCKET pixels (few distinct shapes)."""
    images, widths = to_tensor(crops)
    padded = -(-images.shape[-1] // BUCKET) * BUCKET
    return torch.nn.functional.pad(images, (0, padded - images.shape[-1])), widths


def _quantized(recognizer: Recognizer) -> Recognizer:
    from torch.ao.quantization import quantize_dynamic

    warnings.filterwarnings("ignore", message=".*(deprecat|torchao).*")
    recognizer.model = quantize_dynamic(recognizer.model, {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)
    return recognizer


def _onnx_int8(recognizer: Recognizer, threads: int) -> Recognizer:
    """ONNX Runtime's dynamic int8 quantization of the LSTM and MatMul weights."""
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from ocr_lstm.export import OnnxRunner, export_onnx

    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process applies to CNNs, not here
    with tempfile.TemporaryDirectory() as folder:
        fp32, int8 = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        export_onnx(recognizer.checkpoint, fp32)
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, op_types_to_quantize=["LSTM", "MatMul"])
        recognizer.onnx = OnnxRunner(int8.read_bytes(), threads)
    return recognizer


def _compiled(recognizer: Recognizer) -> Recognizer:
    recognizer.model = torch.compile(recognizer.model, dynamic=True)
    return recognizer


def build_options(model: str, threads: int, batch: int) -> dict[str, Callable[[], Recognizer]]:
    def make(**kwargs) -> Callable[[], Recognizer]:
        settings = {"device": "cpu", "threads": threads, "batch_size": batch, **kwargs}
        return lambda: Recognizer(load_checkpoint(model), **settings)

    return {
        "default": make(),  # ONNX Runtime on the CPU (backend="auto")
        "torch": make(backend="torch"),
        "torch+channels_last=off": make(backend="torch", channels_last=False),
        "threads=1": make(threads=1),
        "batch=8": make(batch_size=8),
        "batch=16": make(batch_size=16),
        "batch=64": make(batch_size=64),
        "batch=256": make(batch_size=256),
        "buckets64": make(),  # patched to_tensor, see measure()
        "int8-dynamic": lambda: _quantized(make(backend="torch")()),
        "onnx-int8": lambda: _onnx_int8(make(backend="onnx")(), threads),
        "compile": lambda: _compiled(make(backend="torch")()),
    }


def _use(recognizer: Recognizer, name: str, threads: int) -> None:
    """Apply the process-wide parts of option ``name``: the batch padding and the thread count."""
    recognizer_module.to_tensor = _bucketed_to_tensor if "buckets" in name else to_tensor
    torch.set_num_threads(1 if name == "threads=1" else threads)


def measure(recognizer: Recognizer, crops: list[np.ndarray]) -> tuple[float, float, list[str]]:
    """Crops per wall-clock second, crops per CPU-second of this process, and the readings."""
    start, start_cpu = time.perf_counter(), time.process_time()
    texts = [d.text for d in recognizer.decode_crops(crops)]
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return len(crops) / wall, len(crops) / max(cpu, 1e-9), texts


def latency_p50(recognizer: Recognizer, crops: list[np.ndarray]) -> float:
    times = []
    for crop in crops:
        start = time.perf_counter()
        recognizer.decode_crops([crop])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--model", default="default")
    parser.add_argument("--limit", type=int, default=300,
                        help="first N crops of each set (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-crops", type=int, default=100)
    parser.add_argument("--options", default=None, help="comma-separated subset (default: all)")
    args = parser.parse_args(argv)

    options = build_options(args.model, args.threads, args.batch_size)
    chosen = args.options.split(",") if args.options else list(options)
    probe = Recognizer(load_checkpoint(args.model), device="cpu", threads=args.threads)
    crops, labels, owners = [], [], []
    for path in args.datasets:
        data = open_dataset(path)
        for i in range(min(args.limit, len(data))):
            source, text = data[i]
            prepared = probe.prepare(source)
            owners.append((len(crops), len(prepared.crops)))
            crops.extend(prepared.crops)
            labels.append(text)
    print(f"model: {args.model}; {len(labels)} images ({len(crops)} crops, mean width "
          f"{statistics.mean(c.shape[1] for c in crops):.0f} px); threads {args.threads}; "
          f"load average {os.getloadavg()[0]:.1f}")

    built: dict[str, Recognizer] = {}
    for name in chosen:
        start = time.perf_counter()
        try:
            built[name] = options[name]()
            _use(built[name], name, args.threads)
            measure(built[name], crops[:64])  # warm-up (and compilation)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other options
            print(f"{name}: unavailable ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
            built.pop(name, None)
            continue
        print(f"{name}: ready in {time.perf_counter() - start:.1f} s", flush=True)

    speeds: dict[str, list[float]] = {name: [] for name in built}
    cpu_speeds: dict[str, list[float]] = {name: [] for name in built}
    texts: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, recognizer in built.items():
            _use(recognizer, name, args.threads)
            speed, cpu_speed, texts[name] = measure(recognizer, crops)
            speeds[name].append(speed)
            cpu_speeds[name].append(cpu_speed)

    print(f"\n{'option':<20} {'crops/s':>8} {'x default':>9} {'crops/CPU-s':>11} {'x default':>9} "
          f"{'p50 ms':>7} {'word acc':>8} {'same text':>9}")
    base = statistics.median(speeds["default"]) if "default" in speeds else None
    cpu_base = statistics.median(cpu_speeds["default"]) if "default" in cpu_speeds else None
    for name, recognizer in built.items():
        speed = statistics.median(speeds[name])
        cpu_speed = statistics.median(cpu_speeds[name])
        _use(recognizer, name, args.threads)
        p50 = latency_p50(recognizer, crops[: args.latency_crops])
        # A vertical crop has two readings; keep the more confident one, as the Recognizer does.
        decoded = recognizer.decode_crops(crops)
        predictions = [max(decoded[s : s + n], key=lambda d: d.confidence).text for s, n in owners]
        accuracy = score(predictions, labels).word_accuracy
        same = 100 * np.mean([a == b for a, b in zip(texts[name], texts.get("default", texts[name]))])
        ratio = f"{speed / base:.2f}" if base else "-"
        cpu_ratio = f"{cpu_speed / cpu_base:.2f}" if cpu_base else "-"
        print(f"{name:<20} {speed:>8.1f} {ratio:>9} {cpu_speed:>11.1f} {cpu_ratio:>9} {p50:>7.2f} "
              f"{accuracy:>8.2f} {same:>8.1f}%", flush=True)
    recognizer_module.to_tensor = to_tensor
    return 0


if __name__ == "__main__":
    sys.exit(main())
