"""The Ray engine on a local Ray (2 CPUs): the local engine's rows, for crops and photos, and reruns that
skip what is written. One Ray instance serves the module and is shut down after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_testing import NO_RAY, RAY_INIT, assert_same_rows, crop_folder, local_rows, photo_folder, shard_rows
from word_images import render_word

from ocr_lstm.cli import main
from ocr_lstm.recognition.options import RecognizerOptions
from ray_batch.stages import ReaderSpec

ray = pytest.importorskip("ray", reason=NO_RAY)
pq = pytest.importorskip("pyarrow.parquet", reason=NO_RAY)

from ray_batch.engine import RayBatchOptions, default_concurrency, run_ray_batch  # noqa: E402 (after the skip)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(**RAY_INIT)
    yield
    ray.shutdown()


def options(model: Path, **kwargs: object) -> RayBatchOptions:
    return RayBatchOptions(ReaderSpec(model, RecognizerOptions(device="cpu", threads=1)), **kwargs)  # type: ignore[arg-type]


def test_crops_give_the_local_engines_rows_none_lost_or_duplicated(tmp_path: Path, tiny_model_path: Path) -> None:
    folder = crop_folder(tmp_path / "crops", count=20)
    expected = local_rows(folder, tmp_path / "local.jsonl", tiny_model_path)
    summary = run_ray_batch(folder, tmp_path / "out", options(tiny_model_path, chunk=3))  # many small batches
    assert_same_rows(shard_rows(tmp_path / "out"), expected)
    assert (summary.read, summary.skipped, summary.unreadable) == (len(expected), 0, 2)
    assert sum(summary.nodes.values()) == len(expected)


def test_photos_give_the_local_engines_pages(tmp_path: Path, tiny_model_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos")
    # The tiny random model reads with little confidence: both engines keep every word.
    expected = local_rows(folder, tmp_path / "local.jsonl", tiny_model_path, "--photos", "--threads", "1",
                          "--min-confidence", "0")
    spec = ReaderSpec(tiny_model_path, RecognizerOptions(device="cpu", threads=1), photos=True, min_confidence=0.0)
    run_ray_batch(folder, tmp_path / "out", RayBatchOptions(spec, chunk=2))
    rows = shard_rows(tmp_path / "out")
    assert_same_rows(rows, expected)
    assert any(row["page"] and row["page"]["blocks"] for row in rows)


def test_a_rerun_reads_only_what_no_shard_holds(tmp_path: Path, tiny_model_path: Path) -> None:
    folder = crop_folder(tmp_path / "crops")
    output = tmp_path / "out"
    command = ["ray-batch", str(folder), "--output", str(output), "--model", str(tiny_model_path), "--device", "cpu"]
    assert main(command) == 0
    first = shard_rows(output)
    render_word("late").save(folder / "sub" / "late.png")
    assert main(command) == 0
    rows = shard_rows(output)
    assert len(list(output.glob("*.jsonl"))) == 2
    assert sorted(row["path"] for row in rows) == sorted([row["path"] for row in first] + ["sub/late.png"])
    summary = run_ray_batch(folder, output, options(tiny_model_path))  # nothing left: Ray is not even asked
    assert (summary.read, summary.skipped, summary.shards) == (0, len(rows), [])


def test_parquet_shards_hold_the_same_rows(tmp_path: Path, tiny_model_path: Path) -> None:
    folder = crop_folder(tmp_path / "crops")
    run_ray_batch(folder, tmp_path / "jsonl", options(tiny_model_path))
    run_ray_batch(folder, tmp_path / "parquet", options(tiny_model_path, fmt="parquet"))
    table = pq.read_table(next((tmp_path / "parquet").glob("*.parquet")))
    parquet_rows = [{k: v for k, v in row.items() if v is not None or k != "error"} for row in table.to_pylist()]
    assert_same_rows(parquet_rows, shard_rows(tmp_path / "jsonl"))


def test_photos_refuse_parquet_before_anything_runs(tmp_path: Path, tiny_model_path: Path) -> None:
    spec = ReaderSpec(tiny_model_path, photos=True)
    with pytest.raises(ValueError, match="only JSONL"):
        run_ray_batch(tmp_path, tmp_path / "out", RayBatchOptions(spec, fmt="parquet"))
    assert not (tmp_path / "out").exists()


def test_a_pool_that_leaves_no_cpu_for_decoding_fails_at_once(tmp_path: Path, tiny_model_path: Path) -> None:
    folder = crop_folder(tmp_path / "crops")
    with pytest.raises(ValueError, match=r"leave no CPU for decoding.*use --concurrency 1 "):
        run_ray_batch(folder, tmp_path / "out", options(tiny_model_path, concurrency=2))  # on 2 CPUs


def test_one_actor_per_gpu_or_per_node() -> None:
    assert default_concurrency(gpus=0, nodes=3, num_gpus=0) == 3
    assert default_concurrency(gpus=4, nodes=2, num_gpus=1) == 4
    assert default_concurrency(gpus=2, nodes=1, num_gpus=0.5) == 4
