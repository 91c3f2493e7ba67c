"""ocr-lstm's CPU speed options, measured side by side on the same crops.

    python benchmarks/speed_options.py ../shared/data/svt ../shared/data/ic13 --limit 300 [--model default]
    python benchmarks/speed_options.py ... --options default,onnx,int8   # a subset
    python benchmarks/speed_options.py ../shared/data/svt ../shared/data/ic13 ../shared/data/ic15_train \
        --options default,onnx-int8-static --calibration ../shared/data/iiit5k_train   # static int8

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
from torch import nn

from ocr_lstm.data.datasets import open_dataset
from ocr_lstm.metrics import score
from ocr_lstm.predictors import (
    OnnxRunner,
    Recognizer,
    RecognizerOptions,
    Runner,
    TorchRunner,
    build_runner,
    load_checkpoint,
    most_confident_turn,
)

BUCKET = 64
CPU = torch.device("cpu")


class BucketedRunner:
    """A runner whose batches are padded up to a multiple of BUCKET pixels (few distinct shapes)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.backend = f"{runner.backend}+buckets{BUCKET}"

    def __call__(self, images: np.ndarray, widths: np.ndarray) -> np.ndarray:
        padded = -(-images.shape[-1] // BUCKET) * BUCKET
        return self.runner(np.pad(images, ((0, 0), (0, 0), (0, 0), (0, padded - images.shape[-1]))), widths)


def _torch_variant(model: str, settings: dict, variant: Callable[[nn.Module], nn.Module]) -> Recognizer:
    """The Recognizer with PyTorch running ``variant`` of the model, in the default channels-last layout."""
    checkpoint = load_checkpoint(model)
    runner = TorchRunner(variant(checkpoint.model.to(memory_format=torch.channels_last)), CPU, channels_last=True)
    return Recognizer(checkpoint, runner=runner, **settings)


def _quantized(model: nn.Module) -> nn.Module:
    from torch.ao.quantization import quantize_dynamic

    warnings.filterwarnings("ignore", message=".*(deprecat|torchao).*")
    return quantize_dynamic(model, {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)


def _compiled(model: nn.Module) -> nn.Module:
    return torch.compile(model, dynamic=True)  # type: ignore[return-value]


def _onnx_int8(model: str, settings: dict) -> Recognizer:
    """ONNX Runtime's dynamic int8 quantization of the LSTM and MatMul weights."""
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from ocr_lstm.predictors import export_onnx

    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process applies to CNNs, not here
    checkpoint = load_checkpoint(model)
    with tempfile.TemporaryDirectory() as folder:
        fp32, int8 = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        export_onnx(checkpoint, fp32)
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, op_types_to_quantize=["LSTM", "MatMul"])
        runner = OnnxRunner(int8.read_bytes(), settings["threads"])
    return Recognizer(checkpoint, runner=runner, **settings)


def _bucketed(model: str, settings: dict) -> Recognizer:
    """The default runner (ONNX Runtime on the CPU) behind BucketedRunner."""
    checkpoint = load_checkpoint(model)
    runner = build_runner(checkpoint.info(), "cpu", RecognizerOptions(**settings), checkpoint)
    return Recognizer(checkpoint, runner=BucketedRunner(runner), **settings)


def _onnx_int8_static(model: str, settings: dict, calibration: str | None) -> Recognizer:
    """ONNX Runtime's static int8 quantization (QDQ, per-channel weights) of the convolutions and
    MatMuls, its activation ranges calibrated on 512 crops of ``calibration``: a training set,
    never one of the measured sets."""
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from ocr_lstm.predictors import export_onnx, pad_batch

    if calibration is None:
        raise ValueError("onnx-int8-static needs --calibration DATASET (a training set)")
    logging.getLogger().setLevel(logging.ERROR)
    checkpoint = load_checkpoint(model)
    plain = Recognizer(checkpoint, **settings)
    data = open_dataset(calibration)
    crops = sorted((plain.prepare(data[i][0]).crops[0] for i in range(min(512, len(data)))), key=lambda c: c.shape[1])
    batches = iter([pad_batch(crops[i : i + 32]) for i in range(0, len(crops), 32)])

    class Batches(CalibrationDataReader):
        def get_next(self) -> dict | None:
            batch = next(batches, None)
            return None if batch is None else {"images": batch[0], "widths": batch[1]}

    with tempfile.TemporaryDirectory() as folder:
        fp32, ready, int8 = (Path(folder) / name for name in ("fp32.onnx", "ready.onnx", "int8.onnx"))
        export_onnx(checkpoint, fp32)
        quant_pre_process(str(fp32), str(ready), skip_symbolic_shape=True)
        quantize_static(str(ready), str(int8), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=["Conv", "MatMul", "Gemm"])
        runner = OnnxRunner(int8.read_bytes(), settings["threads"])
    return Recognizer(checkpoint, runner=runner, **settings)


def build_options(
    model: str, threads: int, batch: int, calibration: str | None = None
) -> dict[str, Callable[[], Recognizer]]:
    """Each option builds its own Recognizer from the checkpoint through its public parts."""
    settings = {"device": "cpu", "threads": threads, "batch_size": batch}

    def make(**kwargs) -> Callable[[], Recognizer]:
        return lambda: Recognizer(load_checkpoint(model), **{**settings, **kwargs})

    return {
        "default": make(),  # ONNX Runtime on the CPU (backend="auto")
        "torch": make(backend="torch"),
        "torch+channels_last=off": make(backend="torch", channels_last=False),
        "threads=1": make(threads=1),
        "batch=8": make(batch_size=8),
        "batch=16": make(batch_size=16),
        "batch=64": make(batch_size=64),
        "batch=256": make(batch_size=256),
        "buckets64": lambda: _bucketed(model, settings),
        "int8-dynamic": lambda: _torch_variant(model, settings, _quantized),
        "onnx-int8": lambda: _onnx_int8(model, settings),
        "onnx-int8-static": lambda: _onnx_int8_static(model, settings, calibration),
        "compile": lambda: _torch_variant(model, settings, _compiled),
    }


def _set_threads(name: str, threads: int) -> None:
    """torch's thread count is process-wide: each option gets its own before it is timed."""
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
    parser.add_argument("--calibration", default=None, help="a training set calibrating onnx-int8-static")
    args = parser.parse_args(argv)

    options = build_options(args.model, args.threads, args.batch_size, args.calibration)
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
            _set_threads(name, args.threads)
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
            _set_threads(name, args.threads)
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
        _set_threads(name, args.threads)
        p50 = latency_p50(recognizer, crops[: args.latency_crops])
        # A tall crop has three readings; keep the most confident, as the Recognizer does.
        decoded = recognizer.decode_crops(crops)
        turns = [decoded[s : s + n] for s, n in owners]
        predictions = [readings[most_confident_turn(readings)].text for readings in turns]
        accuracy = score(predictions, labels).word_accuracy
        same = 100 * np.mean([a == b for a, b in zip(texts[name], texts.get("default", texts[name]))])
        ratio = f"{speed / base:.2f}" if base else "-"
        cpu_ratio = f"{cpu_speed / cpu_base:.2f}" if cpu_base else "-"
        print(f"{name:<20} {speed:>8.1f} {ratio:>9} {cpu_speed:>11.1f} {cpu_ratio:>9} {p50:>7.2f} "
              f"{accuracy:>8.2f} {same:>8.1f}%", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
