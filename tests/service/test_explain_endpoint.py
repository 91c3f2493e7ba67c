"""POST /v1/explain?format=json: the numbers behind the picture, as ocr_lstm.recognition.explain computes them, in the
documented schema (ExplainOut), with each frame placed on the uploaded image."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from service_testing import png_bytes, word_bytes
from word_images import render_word

from ocr_lstm.recognition.explain import explain_image
from ocr_lstm.recognition.recognizer import Recognizer
from service.schemas import ExplainOut

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def reference(tiny_model_path: Path) -> Recognizer:
    return Recognizer(tiny_model_path, device="cpu", threads=1)


async def explain_json(client: httpx.AsyncClient, image: bytes, **params: str) -> dict:
    response = await client.post(
        "/v1/explain", params={"format": "json", **params}, files={"file": ("w.png", image)}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def test_json_is_the_libraries_explanation_in_the_documented_schema(
    client: httpx.AsyncClient, reference: Recognizer
) -> None:
    image = png_bytes(render_word("gates", height=96))  # 96 px high: the image's pixels are not the crop's
    body = await explain_json(client, image)
    ExplainOut.model_validate(body)  # no key missing, none undocumented (extra="forbid")
    expected = explain_image(reference, image, render=False).to_dict()
    with Image.open(io.BytesIO(image)) as uploaded:
        assert body["image"] == expected["image"] == {"width": uploaded.width, "height": uploaded.height, "turned": 0}
    assert body["text"] == expected["text"]
    for got, want in zip(body["columns"], expected["columns"], strict=True):
        assert got["char"] == want["char"]
        assert got["probability"] == pytest.approx(want["probability"], abs=2e-4)
        assert (got["x0"], got["x1"]) == (want["x0"], want["x1"])
    assert body["columns"][-1]["x1"] == pytest.approx(body["image"]["width"], abs=0.01)
    assert body["input"]["width"] != body["image"]["width"]
    for direction in ("forward", "reverse"):
        got, want = body["directions"][direction], expected["directions"][direction]
        assert set(got) == set(want)
        for key in ("ignore_mean", "learned_abs_mean", "forget_mean", "long_term_abs_mean", "use_mean",
                    "short_term_abs_mean"):
            np.testing.assert_allclose(got[key], want[key], atol=2e-4)
            assert len(got[key]) == len(body["columns"])
        assert got["top_units"] == want["top_units"]


async def test_units_can_be_left_out_for_a_lighter_answer(client: httpx.AsyncClient) -> None:
    full = await explain_json(client, word_bytes())
    light = await explain_json(client, word_bytes(), units="false")
    assert full["lstm"]["units_included"] is True and "units" in full["directions"]["forward"]
    assert light["lstm"]["units_included"] is False and "units" not in light["directions"]["forward"]
    ExplainOut.model_validate(light)
    assert light["directions"]["reverse"]["use_mean"] == full["directions"]["reverse"]["use_mean"]


async def test_a_tall_image_says_how_it_was_turned(client: httpx.AsyncClient, reference: Recognizer) -> None:
    tall = render_word("hello").rotate(90, expand=True)
    body = await explain_json(client, png_bytes(tall), units="false")
    expected = explain_image(reference, np.asarray(tall), render=False)
    assert body["image"] == {"width": tall.width, "height": tall.height, "turned": expected.turned}
    read_width = tall.height if expected.turned else tall.width
    assert body["columns"][-1]["x1"] == pytest.approx(read_width, abs=0.01)


async def test_the_openapi_schema_documents_both_answers(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/v1/explain"]["post"]
    content = operation["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ExplainOut"}
    assert "image/png" in content
    assert {p["name"] for p in operation["parameters"]} >= {"format", "units"}
    components = schema["components"]["schemas"]
    assert set(components["ExplainOut"]["properties"]) == set(ExplainOut.model_fields)
    assert {"x0", "x1", "char", "probability"} == set(components["ExplainColumnOut"]["properties"])
    direction = components["ExplainDirectionOut"]["properties"]
    assert "ignore factor i_t" in direction["ignore_mean"]["description"]
