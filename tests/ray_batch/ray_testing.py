"""Helpers of the Ray engine's tests: the folders they read and how their outputs compare."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from PIL import Image
from word_images import render_photo, render_word

from ocr_lstm.cli import main

NO_RAY = "ray is not installed: pip install 'ocr-lstm[ray]' (the test extra pulls it in)"
# A Ray of its own ("local": never one that `ray start` left running), bounded: a small object store, no dashboard.
RAY_INIT = {"address": "local", "num_cpus": 2, "include_dashboard": False, "object_store_memory": 200 * 2**20}

CROPS = {"good.png": "a longer word", "sub/nested.jpg": "word", "sub/deeper/third.PNG": "x1", "tall.png": "I"}
CORRUPT = ["corrupt.png", "empty.jpg"]


def crop_folder(root: Path, count: int = 0) -> Path:
    """Word crops of different widths (a tall one too), nested; a corrupt and an empty file; a non-image.
    ``count`` more crops ``many/NNNN.png`` make a longer run."""
    for name, word in CROPS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        image = render_word(word)
        image = image.resize((image.width // 3, image.height * 2)) if name == "tall.png" else image
        image.save(root / name, "PNG" if name.lower().endswith(".png") else "JPEG")
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.txt").write_text("not an image")
    if count:
        (root / "many").mkdir()
        for i in range(count):
            render_word(f"w{i}", height=32 + i % 17).save(root / "many" / f"{i:04d}.png")
    return root


def photo_folder(root: Path, count: int = 0) -> Path:
    """Two photos (one nested) and a corrupt file; ``count`` more photos ``many/NN.png``."""
    (root / "sub").mkdir(parents=True)
    Image.fromarray(render_photo([("NO PARKING", (100, 100), 48)])[0]).save(root / "a.png")
    Image.fromarray(render_photo([("OPEN 24 HOURS", (60, 200), 40), ("EXIT", (300, 320), 56)], seed=1)[0]).save(
        root / "sub" / "b.jpg"
    )
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    if count:
        (root / "many").mkdir()
        for i in range(count):
            photo = render_photo([(f"ROOM {i}", (80 + 10 * i, 150), 44)], seed=2 + i)[0]
            Image.fromarray(photo).save(root / "many" / f"{i:02d}.png")
    return root


def local_rows(folder: Path, output: Path, model: Path, *extra: str) -> list[dict[str, Any]]:
    """The local engine's rows (``ocr-lstm batch``) for the same folder."""
    assert main(["batch", str(folder), "--output", str(output), "--model", str(model), "--device", "cpu", *extra]) == 0
    return [json.loads(line) for line in output.read_text().splitlines()]


def shard_rows(folder: Path) -> list[dict[str, Any]]:
    """Every row of every JSONL shard in the output folder."""
    return [json.loads(line) for shard in sorted(folder.glob("*.jsonl")) for line in shard.read_text().splitlines()]


def assert_same_rows(ray_rows: list[dict[str, Any]], local: list[dict[str, Any]]) -> None:
    """One row per path on both sides, none duplicated; equal up to float noise of different batches.
    Error messages differ (the local engine names the absolute path): both sides must have one."""
    paths = [row["path"] for row in ray_rows]
    assert len(paths) == len(set(paths))
    assert sorted(paths) == sorted(row["path"] for row in local)
    by_path = {row["path"]: row for row in ray_rows}
    for expected in local:
        row = dict(by_path[expected["path"]])
        if "error" in expected:
            assert row.pop("error") and expected.pop("error")
        assert_close(row, expected)


def assert_close(actual: Any, expected: Any, path: str = "row") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), path
        for key in expected:
            assert_close(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert math.isclose(actual, expected, abs_tol=2e-4), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
