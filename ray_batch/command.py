"""``ocr-lstm ray-batch FOLDER --output DIR``: :func:`ray_batch.engine.run_ray_batch`, registered as an
entry point of ``ocr_lstm.commands``. Ray is imported only when the command runs, so ``ocr-lstm --help``
works without it."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from ocr_lstm.batch import CROP_CHUNK, PHOTO_BATCH
from ocr_lstm.commands import Command, positive_int
from ocr_lstm.commands.common import add_model_arguments, options_from_args
from ocr_lstm.photo.config import OCRConfig

if TYPE_CHECKING:
    from ray_batch.stages import ReaderSpec

DESCRIPTION = textwrap.dedent("""\
    Read every image under FOLDER on a Ray cluster into shards in the folder DIR: the rows of
    `ocr-lstm batch` (path relative to FOLDER, text, confidence, or error; with --photos path,
    text and page), one JSON object per line. FOLDER is a local path or a URI that pyarrow
    reads (s3://bucket/photos, gs://...; every node needs the credentials). Each actor loads
    the model once: --model must be a bundled name or a path that every node can read. A
    rerun into the same DIR skips the images its shards already hold. docs/cluster.md.

    examples:
      ocr-lstm ray-batch crops/ --output results/                  # a Ray started on this machine
      ocr-lstm ray-batch s3://bucket/crops --output results/ --address auto --concurrency 8
      ocr-lstm ray-batch photos/ --output pages/ --photos --num-gpus 0.5   # two actors per GPU
    """)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("folder", metavar="FOLDER",
                        help="folder searched recursively for images: a path, or s3://, gs://, ...")
    parser.add_argument("--output", "-o", metavar="DIR", required=True,
                        help="folder of result shards (made if missing)")
    parser.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl",
                        help="shard format (default: %(default)s; --photos needs jsonl)")
    parser.add_argument("--photos", action="store_true",
                        help="the images are whole photos: detect their text and write one page per row")
    ray_group = parser.add_argument_group("ray")
    ray_group.add_argument("--address", metavar="ADDR", default=None,
                           help="the cluster: 'auto' (one started on this machine with `ray start`), HOST:6379, "
                           "or ray://HOST:10001 (Ray Client); default: RAY_ADDRESS, else a cluster `ray start` "
                           "runs on this machine, else a new Ray here")
    ray_group.add_argument("--concurrency", metavar="N", type=positive_int, default=None,
                           help="actors, each holding one model (default: one per GPU, or one per node)")
    ray_group.add_argument("--chunk", metavar="N", type=positive_int, default=None,
                           help=f"images per actor call, Ray's map_batches batch size (default: {CROP_CHUNK}, "
                           f"or {PHOTO_BATCH} with --photos); --batch-size stays the crops per forward pass")
    ray_group.add_argument("--num-gpus", metavar="F", type=float, default=None,
                           help="GPUs per actor, a fraction shares one (default: 1 when the cluster has GPUs, else 0)")
    ray_group.add_argument("--rows-per-shard", metavar="N", type=positive_int, default=10_000,
                           help="rows per shard file (default: %(default)s)")
    parser.add_argument("--min-confidence", type=float, default=OCRConfig.min_confidence,
                        help="--photos: leave out words read with a lower confidence; words of one or two "
                        f"characters need {OCRConfig.short_word_confidence} (0 keeps every word; default: %(default)s)")
    add_model_arguments(parser)


def reader_spec(args: argparse.Namespace) -> ReaderSpec:
    """What each actor builds, from the model options that every reading command takes."""
    from ray_batch.stages import ReaderSpec

    return ReaderSpec(args.model, options_from_args(args), args.photos, args.min_confidence)


def run(args: argparse.Namespace) -> int:
    try:
        from ray_batch.engine import RayBatchOptions, run_ray_batch
    except ImportError as exc:
        raise ImportError(f"ocr-lstm ray-batch needs Ray: pip install 'ocr-lstm[ray]' ({exc})") from None
    options = RayBatchOptions(reader_spec(args), args.address, args.format, args.concurrency, args.chunk,
                              args.num_gpus, args.rows_per_shard)
    summary = run_ray_batch(args.folder, args.output, options)
    print(f"{summary.read} images read ({summary.skipped} skipped as done), {summary.unreadable} unreadable, "
          f"on {len(summary.nodes)} node(s) -> {len(summary.shards)} shard(s) in {args.output}")
    return 0


COMMAND = Command("batch on a Ray cluster, into JSONL or Parquet shards", add_arguments, run)
