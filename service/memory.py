"""Memory given back to the system once a load has passed.

glibc's malloc keeps what decoding, detection and batches free in its arenas (one per
thread that allocated, up to eight per core) and hands little of it back, so the
server's resident memory stays near its peak long after the load. ``malloc_trim(0)``
returns the free pages of every arena; the server calls it once the work has stopped
for a second, from a worker thread (docs/service.md has the measurement).
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Callable

import anyio


def malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


async def trim_when_idle(work_done: Callable[[], int], busy: Callable[[], bool], idle_s: float = 1.0) -> None:
    """Run for ever: trim once after each stretch of work, when ``work_done`` (a count that grows with the work)
    has not moved for ``idle_s`` and nothing is ``busy``."""
    trim = malloc_trim()
    if trim is None:
        return
    trimmed_at = seen = work_done()
    while True:
        await asyncio.sleep(idle_s)
        done = work_done()
        if done == seen and done != trimmed_at and not busy():
            await anyio.to_thread.run_sync(trim)
            trimmed_at = done
        seen = done
