"""Memory given back after a load: glibc's malloc_trim, once the work has stopped for a while."""

from __future__ import annotations

import asyncio

import pytest

import service.memory as memory

pytestmark = pytest.mark.anyio


def test_glibc_malloc_trim_is_found_here() -> None:
    trim = memory.malloc_trim()
    assert trim is not None
    trim()


async def test_memory_is_trimmed_once_after_each_stretch_of_work_and_never_while_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims = 0

    def counted() -> None:
        nonlocal trims
        trims += 1

    monkeypatch.setattr(memory, "malloc_trim", lambda: counted)
    work, busy = 0, False
    task = asyncio.ensure_future(memory.trim_when_idle(lambda: work, lambda: busy, idle_s=0.02))
    try:
        await asyncio.sleep(0.1)
        assert trims == 0  # no work yet
        busy = True
        for _ in range(5):
            work += 1
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert trims == 0  # stopped, but requests are still in flight
        busy = False
        await asyncio.sleep(0.1)
        assert trims == 1
        await asyncio.sleep(0.1)
        assert trims == 1  # once per stretch
        work += 1
        await asyncio.sleep(0.1)
        assert trims == 2
    finally:
        task.cancel()


async def test_the_detector_and_classifier_give_their_memory_back_unless_the_arena_is_asked_for(
    tiny_model_path,
) -> None:
    """ONNX Runtime's arena holds a photo's largest tensors after a load (docs/service.md): off by default here."""
    from service_testing import make_settings, serving

    from service.app import create_app

    for arena in (False, True):
        app = create_app(make_settings(tiny_model_path, detector_memory_arena=arena))
        async with serving(app):
            state = app.state.service
            sessions = (state.detector.session, state.ocr.orientation.session)
            assert all(s.get_session_options().enable_cpu_mem_arena is arena for s in sessions)
