"""The Ray engine: every image under a folder read on a Ray cluster into a folder of shards.

``ray.data.read_binary_files`` reads the files, CPU tasks decode them
(:func:`ray_batch.stages.decode_file`), and ``map_batches`` hands the decoded images to a
pool of actors, each holding one Recognizer (or photo pipeline) built once. The driver
streams the actors' rows into shards as they come, so the output holds the local engine's
rows, in the order they finish. Ray restarts a dead actor and retries its batch; a rerun
on the same output leaves out the paths already written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import ray
import ray.data

from ocr_lstm.batch import CROP_CHUNK, PHOTO_BATCH  # the chunk sizes, declared once
from ocr_lstm.batch.reading import RowImage
from ray_batch.shards import ShardFormat, ShardWriter, written_paths
from ray_batch.sources import Source, list_images, open_source
from ray_batch.stages import ReaderSpec, decode_file, pack, unpack

# Decoding waits on reads, so two tasks share a CPU; and resources unlike the actors' keep Ray
# from fusing the decoding into the actors, where it would run beside the model one file at a time.
DECODE_CPUS = 0.5


@dataclass(frozen=True)
class RayBatchOptions:
    """How to read: the model each actor builds, the cluster, and the sizes of the work."""

    reader: ReaderSpec = field(default_factory=ReaderSpec)
    address: str | None = None  # None: as ray.init finds one (RAY_ADDRESS, `ray start` here), else a new local Ray
    fmt: ShardFormat = "jsonl"
    concurrency: int | None = None  # actors; None: one per GPU, or one per node without GPUs
    chunk: int | None = None  # images per actor call (map_batches' batch_size); None: 256 crops, 8 photos
    num_gpus: float | None = None  # per actor; None: 1 when the cluster has GPUs, else 0
    rows_per_shard: int = 10_000


@dataclass(frozen=True)
class RayBatchSummary:
    """As the local engine's BatchSummary, plus the shards this run wrote and rows read per Ray node."""

    read: int
    skipped: int
    unreadable: int
    shards: list[Path]
    nodes: dict[str, int]


class ReaderActor:
    """One per actor: builds its model once, then reads batches of decoded images into rows."""

    def __init__(self, spec: ReaderSpec) -> None:
        self.read = spec.build()
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: pa.Table) -> pa.Table:
        items = [
            RowImage(path, None, error) if error is not None else RowImage(path, unpack(pixels))
            for path, pixels, error in zip(*(batch.column(name).to_pylist() for name in ("path", "pixels", "error")))
        ]
        rows = self.read(items)
        return pa.table({
            "row": [json.dumps(row, ensure_ascii=False) for row in rows],
            "error": ["error" in row for row in rows],
            "node": [self.node] * len(rows),
        })


def decode_batch(batch: pa.Table, source: Source, max_pixels: int, gray: bool) -> pa.Table:
    """The CPU stage: Ray's ``path``/``bytes`` rows to relative paths with ``.npy`` pixels or an error."""
    decoded = [
        decode_file(source.relative(path), data, max_pixels, gray)
        for path, data in zip(batch.column("path").to_pylist(), batch.column("bytes").to_pylist())
    ]
    return pa.table({
        "path": [item.path for item in decoded],
        "pixels": pa.array([b"" if item.image is None else pack(item.image) for item in decoded], pa.binary()),
        "error": pa.array([item.error for item in decoded], pa.string()),
    })


def default_concurrency(gpus: float, nodes: int, num_gpus: float) -> int:
    """One actor per GPU (or per share of one), else one per node."""
    return max(1, int(gpus // num_gpus)) if gpus and num_gpus else max(1, nodes)


def check_pool_fits(actors: int, cpus: float) -> None:
    """Ray Data gives each actor a CPU, GPU actors too; a pool that takes every CPU leaves none for
    the decoding tasks, and the run would wait for them forever."""
    if actors + DECODE_CPUS > cpus:
        raise ValueError(f"{actors} actor(s) of one CPU each leave no CPU for decoding on a cluster of {cpus:g} "
                         f"CPUs: use --concurrency {max(1, int(cpus - DECODE_CPUS))} or fewer, or more nodes")


@contextmanager
def ray_connection(address: str | None) -> Iterator[None]:
    """The running Ray connection if there is one, else one opened here and shut down after."""
    if ray.is_initialized():
        yield
        return
    ray.init(address=address, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


def build_dataset(source: Source, paths: list[str], options: RayBatchOptions, max_pixels: int) -> ray.data.Dataset:
    resources: dict[str, Any] = ray.cluster_resources()
    gpus = float(resources.get("GPU", 0))
    num_gpus = options.num_gpus if options.num_gpus is not None else (1.0 if gpus else 0.0)
    nodes = sum(1 for node in ray.nodes() if node["Alive"])
    size = options.concurrency or default_concurrency(gpus, nodes, num_gpus)
    check_pool_fits(size, float(resources.get("CPU", 0)))
    photos = options.reader.photos
    files = ray.data.read_binary_files(paths, filesystem=source.filesystem, include_paths=True)
    decoded = files.map_batches(decode_batch, batch_format="pyarrow", num_cpus=DECODE_CPUS,
                                fn_kwargs={"source": source, "max_pixels": max_pixels, "gray": not photos})
    return decoded.map_batches(
        ReaderActor, fn_constructor_args=(options.reader,), batch_format="pyarrow",
        batch_size=options.chunk or (PHOTO_BATCH if photos else CROP_CHUNK),
        compute=ray.data.ActorPoolStrategy(size=size), num_gpus=num_gpus or None,
    )


def run_ray_batch(folder: str | Path, output: str | Path, options: RayBatchOptions | None = None) -> RayBatchSummary:
    """Read the images under ``folder`` (a path or a pyarrow filesystem URI) not yet in the shards
    of the ``output`` folder, on the Ray cluster, into new shards there."""
    options = options or RayBatchOptions()
    if options.reader.photos and options.fmt != "jsonl":
        raise ValueError("--photos writes a page per row, which only JSONL holds: use --format jsonl")
    source = open_source(folder)  # a wrong folder or model fails before Ray starts
    max_pixels = options.reader.max_pixels()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    done = written_paths(output)
    listed = list_images(source)
    todo = [path for path in listed if source.relative(path) not in done]
    unreadable, nodes = 0, Counter[str]()
    with ShardWriter(output, options.fmt, options.rows_per_shard) as writer:
        if todo:
            with ray_connection(options.address):
                unreadable, nodes = write_rows(build_dataset(source, todo, options, max_pixels), writer)
    return RayBatchSummary(len(todo), len(listed) - len(todo), unreadable, writer.shards, dict(nodes))


def write_rows(dataset: ray.data.Dataset, writer: ShardWriter) -> tuple[int, Counter[str]]:
    """Stream the actors' rows into the shards as they finish; the unreadable files, and rows per node."""
    unreadable, nodes = 0, Counter[str]()
    for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
        for row in batch.column("row").to_pylist():
            writer.write(row)
        writer.flush()
        unreadable += sum(batch.column("error").to_pylist())
        nodes.update(batch.column("node").to_pylist())
    return unreadable, nodes
