"""The model queue (the micro-batcher) on a fake model: batching, ordering, skipping abandoned work, failures."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from service.model_queue import ModelQueue

pytestmark = pytest.mark.anyio


class FakeModel:
    """Doubles numbers and remembers every batch it was given."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.delay = delay

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        time.sleep(self.delay)
        return [2 * item for item in items]


async def test_concurrent_requests_share_one_batch() -> None:
    model = FakeModel()
    queue = ModelQueue(model, max_batch_size=16, max_wait_ms=200)
    await queue.start()
    try:
        results = await asyncio.gather(*(queue.submit([i]) for i in range(5)))
    finally:
        await queue.stop()
    assert results == [[0], [2], [4], [6], [8]]
    assert model.batches == [[0, 1, 2, 3, 4]]


async def test_batches_never_exceed_max_batch_size() -> None:
    model = FakeModel()
    sizes: list[int] = []
    queue = ModelQueue(model, max_batch_size=4, max_wait_ms=50, on_call=sizes.append)
    await queue.start()
    try:
        results = await asyncio.gather(*(queue.submit([i]) for i in range(10)))
    finally:
        await queue.stop()
    assert [r[0] for r in results] == [2 * i for i in range(10)]
    assert sizes == [4, 4, 2]
    assert sorted(x for batch in model.batches for x in batch) == list(range(10))


async def test_max_batch_size_one_turns_batching_off() -> None:
    model = FakeModel()
    queue = ModelQueue(model, max_batch_size=1, max_wait_ms=50)
    await queue.start()
    try:
        await asyncio.gather(*(queue.submit([i]) for i in range(3)))
    finally:
        await queue.stop()
    assert all(len(batch) == 1 for batch in model.batches) and len(model.batches) == 3


async def test_one_request_with_several_items_gets_them_back_in_order() -> None:
    queue = ModelQueue(FakeModel(), max_batch_size=3, max_wait_ms=1)
    await queue.start()
    try:
        assert await queue.submit([5, 1, 4, 2, 3]) == [10, 2, 8, 4, 6]
    finally:
        await queue.stop()


async def test_cancelled_request_leaves_no_work_behind() -> None:
    model = FakeModel()
    skipped: list[int] = []
    queue = ModelQueue(model, max_batch_size=8, max_wait_ms=1, on_skipped=skipped.append)
    await queue.start()
    release = threading.Event()
    blocker = asyncio.ensure_future(queue.run_exclusive(release.wait))  # occupies the model thread
    try:
        await asyncio.sleep(0.05)
        abandoned = asyncio.ensure_future(queue.submit([100, 101]))
        kept = asyncio.ensure_future(queue.submit([7]))
        await asyncio.sleep(0.05)
        abandoned.cancel()
        release.set()
        assert await kept == [14]
        await blocker
    finally:
        release.set()
        await queue.stop()
    assert abandoned.cancelled()
    assert all(100 not in batch and 101 not in batch for batch in model.batches)
    assert sum(skipped) == 2


async def test_a_failing_batch_fails_its_callers_and_the_queue_goes_on() -> None:
    calls = 0

    def flaky(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("model exploded")
        return items

    queue = ModelQueue(flaky, max_batch_size=4, max_wait_ms=1)
    await queue.start()
    try:
        with pytest.raises(RuntimeError, match="exploded"):
            await queue.submit([1])
        assert await queue.submit([2]) == [2]
    finally:
        await queue.stop()


async def test_the_model_runs_off_the_event_loop() -> None:
    queue = ModelQueue(FakeModel(delay=0.3), max_batch_size=1, max_wait_ms=0)
    await queue.start()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    try:
        await queue.submit([1])
    finally:
        ticker.cancel()
        await queue.stop()
    assert ticks >= 10  # the loop kept running while the model slept for 0.3 s


async def test_stop_cancels_queued_requests() -> None:
    queue = ModelQueue(FakeModel(), max_batch_size=1, max_wait_ms=0)
    await queue.start()
    release = threading.Event()
    blocker = asyncio.ensure_future(queue.run_exclusive(release.wait))
    await asyncio.sleep(0.05)
    waiting = asyncio.ensure_future(queue.submit([1]))
    await asyncio.sleep(0.05)
    stopping = asyncio.ensure_future(queue.stop())
    await asyncio.sleep(0.05)
    release.set()
    await stopping
    await blocker
    with pytest.raises(asyncio.CancelledError):
        await waiting
    with pytest.raises(RuntimeError, match="not running"):
        await queue.submit([2])


async def test_a_lone_request_does_not_wait_for_company() -> None:
    queue = ModelQueue(FakeModel(), max_batch_size=8, max_wait_ms=2000)
    await queue.start()
    try:
        started = time.perf_counter()
        assert await queue.submit([1]) == [2]
        assert time.perf_counter() - started < 1.0  # not the 2 s max wait
    finally:
        await queue.stop()


async def test_a_batch_waits_for_announced_items() -> None:
    model = FakeModel()
    queue = ModelQueue(model, max_batch_size=8, max_wait_ms=2000)
    await queue.start()

    async def slow_to_prepare(item: int, delay: float) -> list[int]:
        with queue.expecting(1):
            await asyncio.sleep(delay)  # decoding the upload
        return await queue.submit([item])

    try:
        results = await asyncio.gather(slow_to_prepare(1, 0.0), slow_to_prepare(2, 0.2))
    finally:
        await queue.stop()
    assert results == [[2], [4]]
    assert model.batches == [[1, 2]]  # the first waited for the announced second


async def test_requests_take_turns_so_that_one_item_never_waits_behind_another_requests_hundreds() -> None:
    """Round robin across requests: a photo's 800 lines do not all go before everyone's one word."""
    model = FakeModel()
    queue = ModelQueue(model, max_batch_size=8, max_wait_ms=1)
    await queue.start()
    release = threading.Event()
    blocker = asyncio.ensure_future(queue.run_exclusive(release.wait))  # occupies the model thread
    try:
        await asyncio.sleep(0.05)
        dense = asyncio.ensure_future(queue.submit(list(range(100))))
        other_dense = asyncio.ensure_future(queue.submit(list(range(200, 300))))
        await asyncio.sleep(0)
        light = asyncio.ensure_future(queue.submit([1000]))
        await asyncio.sleep(0.05)
        release.set()
        assert await light == [2000]
        assert await dense == [2 * i for i in range(100)]
        assert await other_dense == [2 * i for i in range(200, 300)]
        await blocker
    finally:
        release.set()
        await queue.stop()
    assert 1000 in model.batches[0]
    assert model.batches[0][:4] == [0, 200, 1000, 1]  # one item of each request in turn
