"""Crops/s of the Ray engine against the local engine on the same folder, on one and on two Ray nodes.

    python benchmarks/ray_engines.py                                   # 2,000 rendered word crops
    python benchmarks/ray_engines.py --folder ../shared/data/iiit5k_train/images

Each engine reads the whole folder into a fresh output, and again a sample of its first
``--sample`` images, each run from the engine's call to its return: the model load (the local
recognizer's, or every actor's) is inside, Ray's own start-up is not (the cluster is up, and has
run the sample once untimed).
The two runs split each engine's time into a fixed start-up and a steady rate:
``steady = (N - n) / (T_N - T_n)`` and ``start-up = T_n - n / steady``. The two Ray nodes are
Ray's test cluster on this one machine (``ray.cluster_utils.Cluster``, two CPUs each), one actor
per node: they share its cores, so they show what the second node costs, not what a second
machine would bring. The table goes to stdout; the engines' progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray
from PIL import Image, ImageDraw, ImageFont
from ray.cluster_utils import Cluster

from ocr_lstm.batch.engine import BatchJob, find_images, plan_batch, read_folder
from ocr_lstm.batch.reading import crop_rows
from ocr_lstm.predictors import DEFAULT_MODEL, Recognizer, RecognizerOptions
from ocr_lstm.synth.words import vocabulary
from ray_batch.engine import RayBatchOptions, run_ray_batch
from ray_batch.stages import ReaderSpec

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NODE_CPUS = 2
OBJECT_STORE = 500 * 2**20


@dataclass(frozen=True)
class Timing:
    engine: str
    nodes: int
    actors: int
    images: int
    seconds: float  # the whole folder
    sample_seconds: float  # its first --sample images

    def row(self, sample: int) -> str:
        steady = (self.images - sample) / max(self.seconds - self.sample_seconds, 1e-9)
        start_up = self.sample_seconds - sample / steady
        where = "-" if self.engine == "local" else str(self.nodes)
        return (f"{self.engine:<8}{where:>6}{self.actors:>8}{self.images:>8}{self.seconds:>9.1f}"
                f"{self.images / self.seconds:>9.1f}{start_up:>11.1f}{steady:>9.1f}")


def render_crops(folder: Path, count: int) -> Path:
    """``count`` word crops, black on white at a few heights, of the synthetic generator's frequent words."""
    folder.mkdir(parents=True)
    words = vocabulary(count)
    for i in range(count):
        font = ImageFont.truetype(str(DEJAVU), 24 + i % 5 * 6) if DEJAVU.is_file() else ImageFont.load_default()
        left, top, right, bottom = font.getbbox(words[i % len(words)])
        image = Image.new("L", (right - left + 12, bottom - top + 12), 255)
        ImageDraw.Draw(image).text((6 - left, 6 - top), words[i % len(words)], font=font, fill=0)
        image.save(folder / f"{i:05d}.png")
    return folder


def sample_of(folder: Path, count: int, into: Path) -> Path:
    """The folder's first ``count`` images copied (to a temporary folder, never the repository)."""
    for path in find_images(folder)[:count]:
        target = into / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return into


def timed(read: Callable[[Path, Path], None], folder: Path, scratch: Path, rounds: int) -> float:
    """Median seconds of ``read(folder, fresh output)`` over ``rounds``."""
    seconds = []
    for _ in range(rounds):
        output = Path(tempfile.mkdtemp(dir=scratch))
        start = time.perf_counter()
        read(folder, output)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def measure(engine: str, nodes: int, actors: int, read: Callable[[Path, Path], None], folder: Path, sample: Path,
            scratch: Path, rounds: int) -> Timing:
    """The whole folder and the sample, after one untimed run of the sample: a fresh Ray cluster starts
    its worker processes on first use, and the first load of a model fills the page cache."""
    timed(read, sample, scratch, 1)
    return Timing(engine, nodes, actors, len(find_images(folder)), timed(read, folder, scratch, rounds),
                  timed(read, sample, scratch, rounds))


def read_local(model: str, options: RecognizerOptions, folder: Path, output: Path) -> None:
    recognizer = Recognizer.from_options(model, options)
    read_folder(plan_batch(BatchJob(folder, output / "results.jsonl")), partial(crop_rows, recognizer))


def read_ray(model: str, options: RecognizerOptions, actors: int, folder: Path, output: Path) -> None:
    run_ray_batch(folder, output, RayBatchOptions(ReaderSpec(model, options), concurrency=actors))


def check_rows(folder: Path, model: str, options: RecognizerOptions, scratch: Path) -> int:
    """Rows that differ between the engines (text by path): the figures compare the same work."""
    local_out, ray_out = scratch / "check-local", scratch / "check-ray"
    local_out.mkdir()
    read_local(model, options, folder, local_out)
    read_ray(model, options, 1, folder, ray_out)
    local = {row["path"]: row.get("text") for row in map(json.loads, (local_out / "results.jsonl").open())}
    shards = [json.loads(line) for shard in ray_out.glob("*.jsonl") for line in shard.open()]
    remote = {row["path"]: row.get("text") for row in shards}
    assert remote.keys() == local.keys(), "the engines read different images"
    return sum(local[path] != remote[path] for path in local)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, help="images to read (default: --count rendered word crops)")
    parser.add_argument("--count", type=int, default=2000, help="crops to render without --folder")
    parser.add_argument("--sample", type=int, default=50, help="images of the short run that measures start-up")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=None, help="threads per model, local and each actor alike")
    parser.add_argument("--rounds", type=int, default=1, help="runs per measurement, median kept")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ray_batch_bench_"))
    try:
        folder = args.folder or render_crops(scratch / "crops", args.count)
        sample = sample_of(folder, args.sample, scratch / "sample")
        options = RecognizerOptions(device="cpu", threads=args.threads)
        local = partial(read_local, args.model, options)
        timings = [measure("local", 1, 1, local, folder, sample, scratch, args.rounds)]

        ray.init(num_cpus=NODE_CPUS, include_dashboard=False, object_store_memory=OBJECT_STORE)
        differing = check_rows(sample, args.model, options, scratch)
        one = partial(read_ray, args.model, options, 1)
        timings.append(measure("ray", 1, 1, one, folder, sample, scratch, args.rounds))
        ray.shutdown()

        node = {"num_cpus": NODE_CPUS, "object_store_memory": OBJECT_STORE}
        cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address)
        two = partial(read_ray, args.model, options, 2)
        timings.append(measure("ray", 2, 2, two, folder, sample, scratch, args.rounds))
        ray.shutdown()
        cluster.shutdown()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"folder: {args.folder or f'{args.count} rendered word crops'}  model: {args.model}  "
          f"threads: {args.threads or 'default'}  cores: {os.cpu_count()}  rounds: {args.rounds}")
    print(f"rows that differ between the engines on the {args.sample}-image sample: {differing}")
    print(f"{'engine':<8}{'nodes':>6}{'actors':>8}{'images':>8}{'total s':>9}{'crops/s':>9}"
          f"{'start-up s':>11}{'steady':>9}")
    for timing in timings:
        print(timing.row(args.sample))
    local_rate = timings[0].images / timings[0].seconds
    for timing in timings[1:]:
        print(f"ray on {timing.nodes} node(s): {timing.images / timing.seconds / local_rate:.2f}x the local engine's "
              "crops/s over the whole folder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
