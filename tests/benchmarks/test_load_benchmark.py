"""benchmarks/load.py: bounded load, honest counts, percentiles, and a real run on loopback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load.py"




def test_percentiles_use_the_nearest_rank(load: ModuleType) -> None:
    result = load.LoadResult(elapsed_s=2.0, latencies_s=[i / 1000 for i in range(1, 101)], errors=3)
    assert result.percentile_ms(50) == pytest.approx(50.0)
    assert result.percentile_ms(99) == pytest.approx(99.0)
    assert result.requests == 103 and result.requests_per_s == pytest.approx(50.0)


def test_load_counts_successes_and_errors_and_stops_at_the_request_cap(load: ModuleType) -> None:
    seen = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        return httpx.Response(200 if seen % 4 else 503, json={})

    async def go() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://x") as client:
            return await load.run_load(client, b"img", clients=4, duration_s=30, max_requests=40)

    result = asyncio.run(go())
    assert seen == 40 and result.requests == 40  # the cap, long before the 30 s
    assert result.errors == 10 and len(result.latencies_s) == 30


def test_load_stops_when_time_is_up(load: ModuleType) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return httpx.Response(200, json={})

    async def go() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://x") as client:
            return await load.run_load(client, b"img", clients=2, duration_s=0.3, max_requests=1_000_000)

    result = asyncio.run(go())
    assert 0.3 <= result.elapsed_s < 1.0 and 0 < result.requests < 1000


@pytest.mark.slow
def test_script_measures_batching_on_and_off_against_a_loopback_server() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--random-preset", "tiny", "--clients", "4", "--duration", "1"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    rows = [line.split() for line in completed.stdout.splitlines() if line.startswith("batching")]
    assert [row[1] for row in rows] == ["on", "off"]
    for row in rows:
        requests, per_second, errors = int(row[-7]), float(row[-6]), int(row[-3])
        rss, peak = float(row[-2]), float(row[-1])
        assert requests > 0 and per_second > 0 and errors == 0
        assert 20 < rss <= peak  # a live server's resident memory, read from /proc
