"""Schemathesis generates requests from the OpenAPI schema: none may cause a server error.

(``schemathesis.pytest.from_fixture`` does not run under pytest 9, so each
operation's strategy is driven by Hypothesis directly.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from service_testing import make_settings

from service.app import create_app

# A longer fuzz run: OCR_LSTM_FUZZ_EXAMPLES=500 pytest tests/service/test_openapi_fuzz.py
EXAMPLES_PER_OPERATION = int(os.environ.get("OCR_LSTM_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def api_schema(tiny_model_path: Path) -> Iterator[schemathesis.BaseSchema]:
    # Schemathesis runs the app's lifespan (model loading) itself and keeps it until shut down.
    app = create_app(make_settings(tiny_model_path, max_upload_bytes=200_000))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    asgi.shutdown_lifespans()


def test_generated_requests_cause_no_server_error(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/recognize", "/v1/explain", "/v1/model", "/metrics"}
    sent: dict[str, int] = {}
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            label = f"{case.method.upper()} {case.path}"
            sent[label] = sent.get(label, 0) + 1
            case.call_and_validate(checks=[not_a_server_error])

        check()
    print(f"schema fuzz: {sum(sent.values())} requests, no server error: {sent}")
