"""The uniform ONNX graph (no padding masks) against the ragged one, and how often batches can use it.

    python benchmarks/uniform_graph.py                         # the graphs, batch 32, one thread
    python benchmarks/uniform_graph.py --crops /tmp/crops8210  # also: uniform share by chunk size,
                                                               # and one thread's CPU time per stage

For each width, a batch of random crops of that width runs through both graphs of the checkpoint
(:func:`ocr_lstm.recognition.runtime.export.export_onnx`, ``ragged`` True and False), interleaved, best of
``--repeats``; the outputs must agree. With ``--crops``, the crops of a folder are prepared once,
then batched as ``Recognizer`` batches them within chunks of each size, counting the crops whose
batch has one width; and one thread's CPU time (``time.process_time``) for decoding the files,
preparing them, the model and CTC decoding, over the whole folder in one chunk.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ocr_lstm.io import find_images, load_image
from ocr_lstm.predictors import (
    OnnxRunner,
    PreparedImage,
    Recognizer,
    export_onnx,
    load_checkpoint,
    width_sorted_batches,
)


def graph_times(model: str, widths: Sequence[int], batch: int, repeats: int) -> None:
    checkpoint = load_checkpoint(model)
    graphs = {}
    for ragged in (True, False):
        buffer = io.BytesIO()
        export_onnx(checkpoint, buffer, ragged=ragged)
        graphs["ragged" if ragged else "uniform"] = OnnxRunner(buffer.getvalue(), threads=1)
    rng = np.random.default_rng(0)
    print(f"batch {batch}, one thread, best of {repeats}")
    print(f"{'width':>6} {'ragged ms':>10} {'uniform ms':>11} {'saved':>6} {'max diff':>9}")
    for width in widths:
        images = rng.random((batch, 1, 32, width), dtype=np.float32) * 2 - 1
        lengths = np.full(batch, width, np.int64)
        best = {name: float("inf") for name in graphs}
        outputs = {}
        for _ in range(repeats):
            for name, runner in graphs.items():
                start = time.perf_counter()
                outputs[name] = runner(images, lengths)
                best[name] = min(best[name], time.perf_counter() - start)
        difference = float(np.abs(outputs["ragged"] - outputs["uniform"]).max())
        print(f"{width:>6} {best['ragged'] * 1e3:>10.1f} {best['uniform'] * 1e3:>11.1f} "
              f"{1 - best['uniform'] / best['ragged']:>6.0%} {difference:>9.1e}")


def uniform_share(prepared: list[PreparedImage], chunk: int, batch_size: int, columns: int) -> float:
    """The share of crops whose batch is one width, batched as the Recognizer batches, chunk by chunk
    in folder order. A tall crop's three turns share one batch and are not one width."""
    uniform = 0
    for start in range(0, len(prepared), chunk):
        images = prepared[start : start + chunk]
        widest = [max(crop.shape[1] for crop in image.crops) for image in images]
        for batch in width_sorted_batches(widest, batch_size, columns):
            if len({crop.shape[1] for i in batch for crop in images[i].crops}) == 1:
                uniform += len(batch)
    return uniform / len(prepared)


def folder_figures(model: str, folder: Path, chunks: Sequence[int]) -> None:
    recognizer = Recognizer(model, device="cpu", threads=1)
    paths = find_images(folder)
    started = time.process_time()
    for path in paths:
        load_image(path)
    decoding = time.process_time() - started
    started = time.process_time()
    prepared = [recognizer.prepare(path) for path in paths]
    preparing = time.process_time() - started
    options = recognizer.options
    print(f"\n{len(paths)} images under {folder}: crops in batches of one width (batch {options.batch_size}, "
          f"at most {options.batch_columns} columns)")
    for chunk in chunks:
        share = uniform_share(prepared, chunk, options.batch_size, options.batch_columns)
        print(f"  chunks of {chunk:>5}: {share:.0%}")
    crops = [crop for item in prepared for crop in item.crops]
    started = time.process_time()
    frames = recognizer.frame_log_probs(crops)
    model_s = time.process_time() - started
    started = time.process_time()
    for log_probs in frames:
        recognizer.decoder.decode(log_probs)
    ctc_s = time.process_time() - started
    print(f"one thread's CPU seconds: decoding the files {decoding:.2f}, preparing them (decoding included) "
          f"{preparing:.2f}, the model {model_s:.2f}, CTC decoding and the word prior {ctc_s:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default="default", help="checkpoint or bundled model name")
    parser.add_argument("--widths", type=int, nargs="+", default=[40, 64, 100, 160, 300])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--crops", type=Path, default=None, help="a folder of word crops")
    parser.add_argument("--chunks", type=int, nargs="+", default=[256, 1024, 3000])
    args = parser.parse_args(argv)
    graph_times(args.model, args.widths, args.batch, args.repeats)
    if args.crops is not None:
        folder_figures(args.model, args.crops, args.chunks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
