"""What every response says about itself: security headers, a strict policy for the page, docs served
offline, HEAD and the favicon, and a schema, redirects, metrics and model description that tell no more
than they should."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from service_testing import make_settings, serving, word_bytes

from service.app import create_app

pytestmark = pytest.mark.anyio

ASSET_TYPES = {"js": "text/javascript", "css": "text/css"}


def policy(response: httpx.Response) -> dict[str, str]:
    """The response's Content-Security-Policy, directive by directive."""
    directives = (part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    return {name: value for name, value in directives}


async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    responses = [
        await client.get("/"),
        await client.get("/healthz"),
        await client.get("/v1/model"),
        await client.get("/docs"),
        await client.get("/nowhere"),
        await client.post("/v1/recognize", files={"file": ("w.png", b"junk")}),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert policy(response)["frame-ancestors"] == "'none'"
    assert policy(responses[1])["default-src"] == "'none'"  # the API needs nothing


async def test_the_page_allows_only_its_own_files_and_has_no_inline_script_or_style(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")
    page_policy = policy(response)
    assert page_policy["script-src"] == "'self'" and page_policy["style-src"] == "'self'"
    assert page_policy["default-src"] == "'none'"
    page = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<style" not in page
    assert not re.search(r"\s(style|on\w+)=", page)
    for asset in re.findall(r'(?:src|href)="(static/[^"]+)"', page):
        assert (await client.get(f"/{asset}")).status_code == 200


@pytest.mark.parametrize("path, title", [("/docs", "Swagger UI"), ("/redoc", "ReDoc")])
async def test_the_docs_pages_load_only_same_origin_files_and_those_are_served(
    client: httpx.AsyncClient, path: str, title: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200 and title in response.text
    assert policy(response)["script-src"] == "'self'"
    references = re.findall(r'(?:src|href|spec-url)="([^"]+)"', response.text)
    assert references and all(not re.match(r"([a-z]+:)?//", reference) for reference in references)
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)  # the policy forbids inline script
    for reference in references:
        served = await client.get(f"/{reference}")
        assert served.status_code == 200, reference
        extension = reference.rsplit(".", 1)[-1]
        if extension in ASSET_TYPES:
            assert served.headers["content-type"].startswith(ASSET_TYPES[extension]) and served.content


async def test_the_docs_describe_every_route_the_service_has_today(client: httpx.AsyncClient) -> None:
    info = (await client.get("/openapi.json")).json()["info"]  # what /docs and /redoc show on top
    described = f"{info['summary']}\n{info['description']}"
    assert "photo" in info["summary"].lower() and "word" in info["summary"].lower()
    for path in (await client.get("/openapi.json")).json()["paths"]:
        assert re.search(rf"`(GET |POST )?{path}`", described), f"/docs does not say what {path} does"
    assert "format=hocr" in described and "format=png" in described and "`files`" in described
    assert "ocr-lstm batch FOLDER" in described


async def test_the_favicon_is_a_small_svg(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.text.startswith("<svg") and len(response.content) < 1000
    assert 'rel="icon" href="favicon.ico"' in (await client.get("/")).text


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/favicon.ico"])
async def test_head_is_answered_like_get(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.head(path)).status_code == 200


async def test_the_schema_asks_for_an_api_key_only_when_the_server_has_one(tiny_model_path: Path) -> None:
    async with serving(create_app(make_settings(tiny_model_path))) as client:
        open_schema = (await client.get("/openapi.json")).json()
    async with serving(create_app(make_settings(tiny_model_path, api_key="s3cret"))) as client:
        keyed_schema = (await client.get("/openapi.json")).json()
    assert "security" not in open_schema["paths"]["/v1/recognize"]["post"]
    assert "securitySchemes" not in open_schema.get("components", {})
    assert "401" not in open_schema["paths"]["/v1/recognize"]["post"]["responses"]
    assert keyed_schema["paths"]["/v1/recognize"]["post"]["security"] == [{"APIKeyHeader": []}]
    assert "401" in keyed_schema["paths"]["/v1/model"]["get"]["responses"]
    assert "/healthz" in keyed_schema["paths"] and "security" not in keyed_schema["paths"]["/healthz"]["get"]


async def test_a_trailing_slash_is_not_redirected_to_the_host_the_client_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz/", headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers and "evil.example" not in response.text


async def test_random_method_names_share_one_metrics_label(client: httpx.AsyncClient) -> None:
    for index in range(20):
        await client.request(f"X{index}BREW", "/healthz")
    text = (await client.get("/metrics")).text
    assert 'ocr_lstm_requests_total{endpoint="/healthz",method="other",status="405"} 20.0' in text
    assert "BREW" not in text


async def test_the_model_endpoint_shows_what_training_measured_but_not_its_paths(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    model = tmp_path / "trained.safetensors"
    shutil.copyfile(tiny_model_path, model)
    config = json.loads(tiny_model_path.with_suffix(".json").read_text())
    config["metadata"] = {
        "steps": 5000,
        "best_val_word_accuracy": 67.98,
        "config": {"real_sets": [{"path": "../shared/data/iiit5k_train"}], "output": "runs/bundled"},
        "source_checkpoint": "runs/bundled-continue/last",
        "averaged_checkpoints": ["runs/stage2-step5000"],
        "validation": {"step": 5000, "word_accuracy": {"svt": 70.1, "synthetic": 84.6}},
        "parent": {"model": "runs/bundled/best", "weights": "/home/me/runs/bundled/best.safetensors"},
    }
    model.with_suffix(".json").write_text(json.dumps(config))
    async with serving(create_app(make_settings(model))) as client:
        described = (await client.get("/v1/model")).json()
    assert described["metadata"] == {"steps": 5000, "best_val_word_accuracy": 67.98}
    assert described["figures"] == {"validation": {"step": 5000, "word_accuracy": {"svt": 70.1, "synthetic": 84.6}}}
    assert "runs/" not in json.dumps(described) and "shared/data" not in json.dumps(described)


async def test_a_word_is_still_read_behind_all_the_guards(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/recognize", files={"file": ("w.png", word_bytes())})
    assert response.status_code == 200 and "connection" not in response.headers


async def test_the_schema_declares_uploaded_images_as_binary(client: httpx.AsyncClient) -> None:
    """Else fuzzers send any string as the image and take the 422s for valid requests refused."""
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    recognize = schemas["Body_recognize_v1_recognize_post"]["properties"]
    one = next(option for option in recognize["file"]["anyOf"] if option.get("type") == "string")
    several = next(option for option in recognize["files"]["anyOf"] if option.get("type") == "array")
    assert one["format"] == several["items"]["format"] == "binary"
    assert schemas["Body_explain_v1_explain_post"]["properties"]["file"]["format"] == "binary"
    photo = schemas["Body_ocr_v1_ocr_post"]["properties"]["file"]["anyOf"]
    assert any(option.get("format") == "binary" for option in photo)
