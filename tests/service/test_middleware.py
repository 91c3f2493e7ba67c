"""The middleware stack: CORS around the body limit, metrics around everything, every route by name."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from service_testing import make_settings, serving

from service.app import create_app

pytestmark = pytest.mark.anyio

ORIGIN = "https://app.example"


async def test_a_413_from_the_body_limit_carries_the_cors_header(tiny_model_path: Path) -> None:
    """Else a browser hides the refusal from the page and reports a network error."""
    settings = make_settings(tiny_model_path, cors_origins=[ORIGIN], max_upload_bytes=20_000)
    async with serving(create_app(settings)) as client:
        response = await client.post(
            "/v1/recognize", files={"file": ("big.png", bytes(50_000))}, headers={"Origin": ORIGIN}
        )
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "limit of 20000 bytes" in response.json()["detail"]


async def test_the_docs_pages_and_their_files_are_counted_under_their_paths(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc", "/static/swagger-ui-bundle.js"):
        assert (await client.get(path)).status_code == 200
    text = (await client.get("/metrics")).text
    for path in ("/docs", "/redoc", "/static/swagger-ui-bundle.js"):
        assert f'ocr_lstm_requests_total{{endpoint="{path}",method="GET",status="200"}} 1.0' in text
    assert 'endpoint="other"' not in text
