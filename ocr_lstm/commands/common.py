"""Options shared by the commands that load a model."""

from __future__ import annotations

import argparse

from ocr_lstm.checkpoint import DEFAULT_MODEL
from ocr_lstm.commands.argtypes import positive_int
from ocr_lstm.recognizer import Recognizer


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", default=DEFAULT_MODEL,
                       help="checkpoint (.safetensors with its .json) or bundled model name (default: %(default)s)")
    group.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    group.add_argument("--batch-size", type=positive_int, default=32,
                       help="crops per forward pass; 16-32 ran faster than 64 on a 2-core CPU, docs/performance.md "
                       "(default: %(default)s)")
    group.add_argument("--threads", type=positive_int, default=None,
                       help="CPU threads for torch (default: torch's choice)")
    group.add_argument("--decoding", choices=["greedy", "beam"], default="greedy",
                       help="CTC decoding (default: greedy)")
    group.add_argument("--allowlist", default=None, help="only these characters may be read")
    group.add_argument("--word-prior", action=argparse.BooleanOptionalAction, default=True,
                       help="let frequent English words win close calls (default: on; off for non-English text, "
                       "codes and names)")
    group.add_argument("--backend", choices=["auto", "torch", "onnx"], default="auto",
                       help="run the model with PyTorch or ONNX Runtime (CPU only); auto: ONNX Runtime on the CPU, "
                       "PyTorch on a GPU (default: %(default)s)")


def recognizer_from_args(args: argparse.Namespace) -> Recognizer:
    return Recognizer(
        args.model,
        device=args.device,
        batch_size=args.batch_size,
        threads=args.threads,
        decoding=args.decoding,
        allowlist=args.allowlist,
        backend=args.backend,
        word_prior=args.word_prior,
    )
