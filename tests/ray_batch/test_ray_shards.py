"""The Ray engine's input listing and output shards, without Ray: what a rerun finds written, how shards rotate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ray_testing import CORRUPT, CROPS, NO_RAY, crop_folder

pytest.importorskip("pyarrow", reason=NO_RAY)  # pyarrow comes with the ray extra

from ray_batch.shards import ShardWriter, written_paths
from ray_batch.sources import list_images, open_source


def row(path: str) -> str:
    return json.dumps({"path": path, "text": "t", "confidence": 0.5})


def test_the_listing_finds_images_by_suffix_recursively_with_relative_paths(tmp_path: Path) -> None:
    source = open_source(crop_folder(tmp_path / "crops"))
    assert sorted(source.relative(path) for path in list_images(source)) == sorted([*CROPS, *CORRUPT])


def test_a_local_folder_reads_by_uri_too(tmp_path: Path) -> None:
    folder = crop_folder(tmp_path / "crops")
    by_uri = open_source(folder.resolve().as_uri())
    assert [by_uri.relative(p) for p in list_images(by_uri)] == [open_source(folder).relative(p)
                                                                 for p in list_images(open_source(folder))]


def test_a_missing_folder_fails_as_in_the_local_engine(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a folder"):
        open_source(tmp_path / "absent")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_shards_rotate_and_a_rerun_finds_every_row_written(tmp_path: Path, fmt: str) -> None:
    with ShardWriter(tmp_path, fmt, rows_per_shard=2) as writer:  # type: ignore[arg-type]
        for i in range(5):
            writer.write(row(f"{i}.png"))
    assert [shard.suffix for shard in writer.shards] == [f".{fmt}"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(shard.name for shard in writer.shards)
    assert written_paths(tmp_path) == {f"{i}.png" for i in range(5)}


def test_each_run_adds_shards_of_its_own(tmp_path: Path) -> None:
    for paths in (["a.png"], ["b.png"]):
        with ShardWriter(tmp_path, "jsonl", rows_per_shard=10) as writer:
            for path in paths:
                writer.write(row(path))
    assert len(list(tmp_path.glob("*.jsonl"))) == 2
    assert written_paths(tmp_path) == {"a.png", "b.png"}


def test_a_line_cut_short_is_dropped_and_its_path_redone(tmp_path: Path) -> None:
    with ShardWriter(tmp_path, "jsonl", rows_per_shard=10) as writer:
        writer.write(row("a.png"))
        writer.write(row("b.png"))
    shard = writer.shards[0]
    shard.write_text(shard.read_text()[:-10])  # interrupted while writing b.png's row
    assert written_paths(tmp_path) == {"a.png"}
    assert shard.read_text() == row("a.png") + "\n"


def test_a_parquet_shard_left_unfinished_holds_no_paths(tmp_path: Path) -> None:
    (tmp_path / "part-x-00000.parquet.tmp").write_bytes(b"PAR1 cut short")
    assert written_paths(tmp_path) == set()
