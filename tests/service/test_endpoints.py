"""Every endpoint, in process, on the tiny random model."""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

import httpx
import pytest
from service_testing import make_settings, serving, word_bytes

from ocr_lstm.recognition.explain import explain_prepared
from ocr_lstm.recognition.recognizer import Recognizer
from service.app import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def reference(tiny_model_path: Path) -> Recognizer:
    """The same model outside the service, to check that the service returns what it reads."""
    return Recognizer(tiny_model_path, device="cpu", threads=1)


async def test_recognize_one_file_returns_text_confidences_model_and_time(
    client: httpx.AsyncClient, reference: Recognizer
) -> None:
    image = word_bytes("hello")
    response = await client.post("/v1/recognize", files={"file": ("hello.png", image, "image/png")})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"text", "confidence", "chars", "model", "elapsed_ms"}
    expected = reference.recognize(image)[0].as_dict()
    # The model tells words apart, so a service reading some other image would not match.
    assert reference.recognize(word_bytes("world"))[0].text != expected["text"]
    assert body["text"] == expected["text"]
    assert body["confidence"] == pytest.approx(expected["confidence"], abs=1e-3)
    assert [c["char"] for c in body["chars"]] == list(body["text"])
    assert all(0 <= c["confidence"] <= 1 for c in body["chars"])
    assert body["model"] == reference.name
    assert body["elapsed_ms"] > 0


async def test_recognize_several_files_returns_a_list_in_order(
    client: httpx.AsyncClient, reference: Recognizer
) -> None:
    words = ["a", "longer words here", "mid", "x1"]
    images = [word_bytes(word) for word in words]
    response = await client.post(
        "/v1/recognize", files=[("files", (f"{i}.png", im)) for i, im in enumerate(images)]
    )
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and len(body) == len(words)
    expected = [reference.recognize(im)[0].as_dict() for im in images]
    assert len({e["text"] for e in expected}) == len(words)  # distinct, so a swap would show
    assert [item["text"] for item in body] == [e["text"] for e in expected]
    assert [item["confidence"] for item in body] == pytest.approx([e["confidence"] for e in expected], abs=2e-4)


async def test_one_image_as_files_still_returns_a_list(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/recognize", files=[("files", ("w.png", word_bytes()))])
    assert response.status_code == 200
    assert isinstance(response.json(), list) and len(response.json()) == 1


@pytest.mark.parametrize(
    "name,declared", [("word.txt", "text/plain"), ("word.gif", "application/octet-stream")]
)
async def test_image_type_comes_from_the_content_not_the_name(
    client: httpx.AsyncClient, name: str, declared: str
) -> None:
    response = await client.post("/v1/recognize", files={"file": (name, word_bytes("hi", "JPEG"), declared)})
    assert response.status_code == 200


async def test_model_endpoint_describes_the_loaded_model(
    client: httpx.AsyncClient, reference: Recognizer
) -> None:
    response = await client.get("/v1/model")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == reference.name
    assert body["charset"] == reference.charset.symbols
    assert body["input_height"] == 32
    assert body["parameters"] == sum(p.numel() for p in reference.model.parameters())
    assert body["max_batch_size"] >= 1


async def test_healthz_says_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_is_ready_once_the_model_is_loaded(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ready"


async def test_readyz_and_recognize_refuse_before_the_model_is_loaded(tiny_model_path: Path) -> None:
    app = create_app(make_settings(tiny_model_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://t"
    ) as client:  # no lifespan
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503 and "not loaded" in response.json()["detail"]
        response = await client.post("/v1/recognize", files={"file": ("w.png", word_bytes())})
        assert response.status_code == 503


async def test_metrics_count_requests_latency_batches_and_errors(client: httpx.AsyncClient) -> None:
    await client.post("/v1/recognize", files={"file": ("w.png", word_bytes())})
    await client.post("/v1/recognize", files={"file": ("w.png", b"not an image")})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'ocr_lstm_requests_total{endpoint="/v1/recognize",method="POST",status="200"} 1.0' in text
    assert 'ocr_lstm_requests_total{endpoint="/v1/recognize",method="POST",status="415"} 1.0' in text
    assert 'ocr_lstm_request_duration_seconds_count{endpoint="/v1/recognize"} 2.0' in text
    assert "ocr_lstm_batch_size_count 1.0" in text
    assert 'ocr_lstm_errors_total{kind="unsupported"} 1.0' in text
    assert "ocr_lstm_images_total 1.0" in text
    assert "ocr_lstm_model_loaded 1.0" in text


async def test_unknown_paths_share_one_metrics_label(client: httpx.AsyncClient) -> None:
    for path in ("/a", "/b", "/c"):
        assert (await client.get(path)).status_code == 404
    text = (await client.get("/metrics")).text
    assert 'ocr_lstm_requests_total{endpoint="other",method="GET",status="404"} 3.0' in text


async def test_each_app_has_its_own_metrics(tiny_model_path: Path) -> None:
    async with serving(create_app(make_settings(tiny_model_path))) as first:
        await first.get("/healthz")
        async with serving(create_app(make_settings(tiny_model_path))) as second:
            text = (await second.get("/metrics")).text
    assert 'endpoint="/healthz"' not in text


async def test_page_is_self_contained(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    script = (await client.get("/static/page.js")).text
    style = (await client.get("/static/page.css")).text
    assert 'type="file"' in page and "v1/recognize" in script
    # No CDN, fonts or scripts from elsewhere: it must work offline.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in style and "url(http" not in style


async def test_openapi_schema_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert {"/v1/recognize", "/v1/model", "/v1/explain", "/healthz", "/readyz", "/metrics"} <= set(
        schema["paths"]
    )
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_api_key_is_required_when_set(tiny_model_path: Path) -> None:
    async with serving(create_app(make_settings(tiny_model_path, api_key="s3cret"))) as client:
        files = {"file": ("w.png", word_bytes())}
        missing = await client.post("/v1/recognize", files=files)
        wrong = await client.post("/v1/recognize", files=files, headers={"X-API-Key": "guess"})
        right = await client.post("/v1/recognize", files=files, headers={"X-API-Key": "s3cret"})
        model_without_key = await client.get("/v1/model")
        health_without_key = await client.get("/healthz")
    assert missing.status_code == 401 and "X-API-Key" in missing.json()["detail"]
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert model_without_key.status_code == 401
    assert health_without_key.status_code == 200


async def test_no_api_key_needed_when_none_is_set(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/recognize", files={"file": ("w.png", word_bytes())}, headers={"X-API-Key": "x"}
    )
    assert response.status_code == 200


async def test_cors_allows_only_the_configured_origins(tiny_model_path: Path) -> None:
    settings = make_settings(tiny_model_path, cors_origins=["https://app.example"])
    async with serving(create_app(settings)) as client:
        allowed = await client.get("/healthz", headers={"Origin": "https://app.example"})
        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


async def test_explain_returns_a_png(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/explain", files={"file": ("w.png", word_bytes())})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_explain_draws_its_picture_off_the_model_thread(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ~1 s matplotlib render must not hold the thread that reads every batch."""
    from ocr_lstm.recognition.explain import Explanation
    from service.routes import recognition as recognition_module

    threads: dict[str, str] = {}
    real_render = Explanation.png.func

    def traced_explain(*args: object, **kwargs: object) -> Explanation:
        threads["forward"] = threading.current_thread().name
        return explain_prepared(*args, **kwargs)

    def traced_render(self: Explanation) -> bytes:
        threads["render"] = threading.current_thread().name
        return real_render(self)

    monkeypatch.setattr(recognition_module, "explain_prepared", traced_explain)
    monkeypatch.setattr(Explanation, "png", functools.cached_property(traced_render))
    Explanation.png.__set_name__(Explanation, "png")
    response = await client.post("/v1/explain", files={"file": ("w.png", word_bytes())})
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert threads["forward"] != threads["render"]


async def test_explain_returns_json_with_the_reading(client: httpx.AsyncClient) -> None:
    bodies, readings = [], []
    for word in ("hello", "world"):
        image = word_bytes(word)
        response = await client.post("/v1/explain", params={"format": "json"}, files={"file": ("w.png", image)})
        assert response.status_code == 200
        bodies.append(response.json())
        readings.append((await client.post("/v1/recognize", files={"file": ("w.png", image)})).json())
    assert readings[0]["text"] != readings[1]["text"]  # so explaining the wrong image would show
    for body, recognized in zip(bodies, readings):
        assert body["text"] == recognized["text"]
        assert body["confidence"] == pytest.approx(recognized["confidence"], abs=2e-4)
        assert body["model"] == recognized["model"]


async def test_explain_refuses_a_non_image(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/explain", files={"file": ("w.png", b"%PDF-1.4 nope")})
    assert response.status_code == 415
    assert "detail" in response.json()


async def test_onnx_backend_setting_serves_the_same_readings(tiny_model_path: Path) -> None:
    """The same readings as eager PyTorch: a real cross-backend check, not ONNX against ONNX."""
    pytest.importorskip("onnxruntime")
    app = create_app(make_settings(tiny_model_path, backend="onnx"))
    async with serving(app) as client:
        words = [word_bytes(w) for w in ("hello", "world")]
        response = await client.post("/v1/recognize", files=[("files", (f"{i}.png", w)) for i, w in enumerate(words)])
    assert app.state.service.recognizer.backend == "onnx"
    assert response.status_code == 200
    eager = Recognizer(tiny_model_path, device="cpu", threads=1, backend="torch")
    expected = [eager.recognize(word)[0].as_dict() for word in words]
    assert expected[0]["text"] != expected[1]["text"]  # so a swap would show
    assert [r["text"] for r in response.json()] == [e["text"] for e in expected]
    assert [r["confidence"] for r in response.json()] == pytest.approx([e["confidence"] for e in expected], abs=2e-4)


def test_unknown_backend_setting_is_refused(tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="backend"):
        make_settings(tiny_model_path, backend="tensorrt")


async def test_word_prior_setting_reaches_the_decoder(tiny_model_path: Path) -> None:
    for enabled in (True, False):
        app = create_app(make_settings(tiny_model_path, word_prior=enabled))
        async with serving(app):
            assert (app.state.service.recognizer.decoder.word_prior is not None) is enabled
