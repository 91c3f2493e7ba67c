"""Two Ray nodes on one machine (Ray's own test cluster): the work lands on both, and killing an actor's
process mid-run loses no row, because Ray restarts the actor and retries its batch. One cluster serves
the module and is shut down after it."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ray_testing import NO_RAY, RAY_INIT, assert_same_rows, crop_folder, local_rows, photo_folder, shard_rows

from ocr_lstm.recognition.options import RecognizerOptions
from ray_batch.stages import ReaderSpec

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason=NO_RAY)

from ray.cluster_utils import Cluster  # noqa: E402 (after the skip without Ray)

from ray_batch.engine import RayBatchOptions, RayBatchSummary, run_ray_batch  # noqa: E402

RUN_TIMEOUT_S = 120
ACTOR_TITLE = b"ray::MapWorker(MapBatches(ReaderActor))"  # the process title Ray gives each actor


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[Cluster]:
    node = {key: RAY_INIT[key] for key in ("num_cpus", "object_store_memory")}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def actor_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(ACTOR_TITLE):
                pids.append(int(entry.name))
        except OSError:
            continue  # the process ended while listed
    return pids


def lines_written(output: Path) -> int:
    """Whole lines in the shards so far (read while the run writes them)."""
    return sum(shard.read_bytes().count(b"\n") for shard in output.glob("*.jsonl"))


def run_in_background(folder: Path, output: Path, options: RayBatchOptions) -> tuple[threading.Thread, list]:
    result: list[RayBatchSummary | BaseException] = []

    def target() -> None:
        try:
            result.append(run_ray_batch(folder, output, options))
        except BaseException as exc:  # noqa: BLE001 (reported by the test's assertion)
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def options(model: Path) -> RayBatchOptions:
    """Small batches: many actor calls, spread over the pool (one actor per node by default)."""
    return RayBatchOptions(ReaderSpec(model, RecognizerOptions(device="cpu", threads=1)), chunk=4)


def test_photos_land_on_both_nodes(two_nodes: Cluster, tmp_path: Path, tiny_model_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = photo_folder(tmp_path / "photos", count=4)
    expected = local_rows(folder, tmp_path / "local.jsonl", tiny_model_path, "--photos", "--threads", "1")
    # Ray Data hands out work as soon as one actor is up; on 2 busy cores the first could read
    # everything before the second has loaded its models, unless the run waits for the whole pool.
    monkeypatch.setattr(ray.data.DataContext.get_current(), "wait_for_min_actors_s", RUN_TIMEOUT_S)
    # One photo per call, each slower than decoding the next: the idler actor gets it.
    spec = ReaderSpec(tiny_model_path, RecognizerOptions(device="cpu", threads=1), photos=True)
    summary = run_ray_batch(folder, tmp_path / "out", RayBatchOptions(spec, chunk=1))
    assert_same_rows(shard_rows(tmp_path / "out"), expected)
    alive = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    assert len(alive) == 2 and set(summary.nodes) == alive


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the actors' processes in /proc (Linux)")
def test_a_killed_actor_loses_no_row_and_the_run_stops_by_itself(two_nodes: Cluster, tmp_path: Path,
                                                                  tiny_model_path: Path) -> None:
    folder = crop_folder(tmp_path / "crops", count=400)
    expected = local_rows(folder, tmp_path / "local.jsonl", tiny_model_path)
    output = tmp_path / "out"
    thread, result = run_in_background(folder, output, options(tiny_model_path))

    wait_for(lambda: len(actor_pids()) == 2 and lines_written(output) >= 8, RUN_TIMEOUT_S)
    os.kill(min(actor_pids()), signal.SIGKILL)
    written_at_kill = lines_written(output)
    thread.join(RUN_TIMEOUT_S)

    assert not thread.is_alive(), "the run did not stop by itself"
    (summary,) = result
    assert isinstance(summary, RayBatchSummary), summary
    assert written_at_kill < len(expected)  # the kill came mid-run
    assert_same_rows(shard_rows(output), expected)
