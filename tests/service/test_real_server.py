"""End to end: ``ocr-lstm serve`` on a loopback port answers concurrent clients."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from service_testing import word_bytes

pytestmark = pytest.mark.slow

OK_COUNTER = 'ocr_lstm_requests_total{endpoint="/v1/recognize",method="POST",status="200"}'


def answered(base_url: str) -> float:
    """Recognize requests answered with 200 so far (the server is shared with other tests)."""
    lines = httpx.get(f"{base_url}/metrics").text.splitlines()
    return next((float(line.split()[-1]) for line in lines if line.startswith(OK_COUNTER)), 0.0)


def test_real_server_answers_concurrent_requests(live_server: str) -> None:
    words = ["one", "two", "three", "four"] * 4
    images = [word_bytes(word) for word in words]

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as client:
            return await asyncio.gather(
                *(
                    client.post("/v1/recognize", files={"file": (f"{i}.png", image)})
                    for i, image in enumerate(images)
                )
            )

    before = answered(live_server)
    responses = asyncio.run(send_all())
    assert [r.status_code for r in responses] == [200] * len(images)
    texts = [r.json()["text"] for r in responses]
    # The same image always reads the same, however the requests were batched.
    assert all(texts[i] == texts[i % 4] for i in range(len(texts)))

    assert httpx.get(f"{live_server}/readyz").json()["status"] == "ready"
    assert answered(live_server) - before == len(images)
    assert httpx.post(f"{live_server}/v1/recognize", files={"file": ("x.png", b"junk")}).status_code == 415
