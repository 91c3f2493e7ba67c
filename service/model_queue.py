"""The model queue: concurrent requests' crops gathered into shared model calls on the model's one thread.

Requests put their items (an image's resized crops: a word image's one or three turns, or one line of a
photo) on a queue of their own and await their futures, each answered with its crops' frame log-probabilities,
which the requests decode themselves (:meth:`ocr_lstm.predictors.Recognizer.image_log_probs`); so the lines of
concurrent photos share model calls with the word images (this is the service's micro-batcher).

A single collector task waits for a first item, waits for the model thread to be free, gathers
items until the call is full or ``max_wait_ms`` has passed since the first one came
(but only while other requests announced with ``expecting`` are still on their way, so
a lone request never waits for company), drops items whose request has gone (cancelled
futures), and runs the call on the worker thread so the event loop stays free. Items are
dropped at the last moment before the model runs, so an abandoned request costs nothing.

The requests take turns: a call takes one item of each waiting request in turn (round
robin), so that a request of one item waits at most for the call being run, never
behind all 800 lines of a photo that came before it.
The same thread runs every other model call (``run_exclusive``), so the model
is never used from two threads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
import numpy as np

from ocr_lstm.predictors import LineReading, LineSteps

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")


@dataclass
class _Pending(Generic[T, R]):
    item: T
    future: asyncio.Future[R]


class ModelQueue(Generic[T, R]):
    """Gathers items from concurrent callers into shared calls of ``call_model``.

    ``call_model`` maps a list of items to a list of results of the same length.
    ``on_call`` is told each call's size and ``on_skipped`` how many items were
    dropped because their caller had gone (both for metrics).
    """

    def __init__(
        self,
        call_model: Callable[[list[T]], Sequence[R]],
        max_batch_size: int,
        max_wait_ms: float,
        on_call: Callable[[int], None] | None = None,
        on_skipped: Callable[[int], None] | None = None,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self._call_model = call_model
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self._on_call = on_call or (lambda size: None)
        self._on_skipped = on_skipped or (lambda count: None)
        # One queue per request with items waiting, in turn order: the next item comes from the first.
        self._turns: deque[deque[_Pending[T, R]]] = deque()
        self._arrived: asyncio.Event | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._collector: asyncio.Task[None] | None = None
        self._model_free: asyncio.Lock | None = None
        self._expected = 0
        self.calls = 0  # batches and exclusive calls run so far

    @property
    def running(self) -> bool:
        return self._collector is not None and not self._collector.done()

    async def start(self) -> None:
        if self.running:
            return
        self._turns.clear()
        self._arrived = asyncio.Event()
        self._model_free = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr-lstm-model")
        self._collector = asyncio.create_task(self._collect_forever(), name="ocr-lstm-model-queue")

    async def stop(self) -> None:
        """Stop collecting; items still queued are cancelled, the running batch finishes."""
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector
            self._collector = None
        while self._turns:
            _cancel(list(self._turns.popleft()))
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown, wait=True)

    async def submit(self, items: Sequence[T]) -> list[R]:
        """Results for ``items`` in order; cancelling the caller withdraws the items not yet run."""
        if not self.running or self._arrived is None:
            raise RuntimeError("the model queue is not running")
        loop = asyncio.get_running_loop()
        pending = [_Pending(item, loop.create_future()) for item in items]
        if pending:
            self._turns.append(deque(pending))
            self._arrived.set()
        # gather cancels every future when the caller is cancelled, which is how
        # the collector knows to skip them.
        return list(await asyncio.gather(*(entry.future for entry in pending)))

    @property
    def queued(self) -> int:
        """Items waiting for a batch."""
        return sum(len(turn) for turn in self._turns)

    @contextlib.contextmanager
    def expecting(self, count: int) -> Iterator[None]:
        """Announce ``count`` items that are being prepared and will be submitted soon.

        Leave the block before awaiting ``submit``'s result (submitting right
        after it, with no ``await`` in between): a batch waits for more items
        only while some are announced.
        """
        self._expected += count
        try:
            yield
        finally:
            self._expected -= count

    async def run_exclusive(self, function: Callable[[], V]) -> V:
        """Run ``function`` on the model thread, between batches."""
        if self._executor is None or self._model_free is None:
            raise RuntimeError("the model queue is not running")
        async with self._model_free:
            self.calls += 1
            return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def _collect_forever(self) -> None:
        assert self._arrived is not None and self._model_free is not None
        while True:
            await self._arrived.wait()
            deadline = asyncio.get_running_loop().time() + self.max_wait
            await self._model_free.acquire()
            try:
                batch = await self._gather(deadline)
                if batch:
                    await self._call(batch)
            finally:
                self._model_free.release()

    async def _gather(self, deadline: float) -> list[_Pending[T, R]]:
        assert self._arrived is not None
        batch: list[_Pending[T, R]] = []
        gone = 0
        try:
            while len(batch) < self.max_batch_size:
                if self._turns:
                    entry = self._next()
                    if entry.future.done():  # its request has gone: no room in the batch for it
                        gone += 1
                    else:
                        batch.append(entry)
                    continue
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0 or self._expected <= 0:
                    break
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    break
        except asyncio.CancelledError:
            _cancel(batch)
            raise
        live = [entry for entry in batch if not entry.future.done()]
        if gone + len(batch) - len(live):
            self._on_skipped(gone + len(batch) - len(live))
        return live

    def _next(self) -> _Pending[T, R]:
        """The first request's next item; that request then waits for its turn behind the others."""
        assert self._arrived is not None
        turn = self._turns.popleft()
        entry = turn.popleft()
        if turn:
            self._turns.append(turn)
        elif not self._turns:
            self._arrived.clear()
        return entry

    async def _call(self, batch: list[_Pending[T, R]]) -> None:
        assert self._executor is not None
        items = [entry.item for entry in batch]
        self._on_call(len(items))
        self.calls += 1
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._executor, self._call_model, items)
            if len(results) != len(items):
                raise RuntimeError(f"call_model returned {len(results)} results for {len(items)} items")
        except asyncio.CancelledError:
            _cancel(batch)
            raise
        except Exception as exc:  # noqa: BLE001 - the callers get the error; the collector goes on
            for entry in batch:
                if not entry.future.done():
                    entry.future.set_exception(exc)
            return
        for entry, result in zip(batch, results):
            if not entry.future.done():
                entry.future.set_result(result)


def _cancel(batch: list[_Pending[T, R]]) -> None:
    for entry in batch:
        entry.future.cancel()


Crops = tuple[np.ndarray, ...]  # an image's crops
CropFrames = list[np.ndarray]  # their frames' log-probabilities


async def read_lines(steps: LineSteps, queue: ModelQueue[Crops, CropFrames]) -> list[list[LineReading]]:
    """Run the photo pipeline's steps (:meth:`ocr_lstm.predictors.OCR.line_steps`): its own work (cutting the
    lines, the orientation classifier, decoding) in a worker thread, its crops through the queue."""

    def step(frames: list[np.ndarray] | None) -> tuple[bool, Any]:
        try:
            return False, steps.send(frames)  # type: ignore[arg-type]  # None starts the steps
        except StopIteration as done:
            return True, done.value

    done, value = await anyio.to_thread.run_sync(step, None)
    while not done:
        frames = await queue.submit([(crop,) for crop in value])
        done, value = await anyio.to_thread.run_sync(step, [f for (f,) in frames])
    return value
