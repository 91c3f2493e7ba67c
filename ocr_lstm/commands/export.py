"""``ocr-lstm export --output model.onnx``: the model as ONNX (dynamic batch and width)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ocr_lstm.checkpoint import DEFAULT_MODEL

    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="checkpoint (.safetensors with its .json) or bundled model name "
                        "(default: %(default)s)")
    parser.add_argument("--output", "-o", type=Path, default=None,
                        help="ONNX file to write (default: the model's name + .onnx)")
    parser.add_argument("--no-check", action="store_true",
                        help="skip comparing ONNX Runtime's output with the PyTorch model's")


def run(args: argparse.Namespace) -> int:
    from ocr_lstm.checkpoint import load_checkpoint
    from ocr_lstm.recognition.runtime.export import export_onnx
    from ocr_lstm.recognition.runtime.onnx_runner import max_difference

    checkpoint = load_checkpoint(args.model)
    output = args.output or Path(f"{checkpoint.name}.onnx")
    export_onnx(checkpoint, output)
    print(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB): inputs images (B, 1, "
          f"{checkpoint.preprocess.height}, W) in [-1, 1] and widths (B,), "
          "output log_probs (W/4, B, classes)")
    if not args.no_check:
        print(f"max |onnxruntime - torch| over valid frames: {max_difference(checkpoint.model, output):.2e}")
    return 0
