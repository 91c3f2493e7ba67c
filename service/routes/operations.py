"""Probes and metrics: open without an API key, for orchestrators and scrapers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.errors import ServiceError
from service.routes.responses import DRAINING
from service.schemas import Health, Readiness
from service.state import State, service_state

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="the process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="the model is loaded and the server is not shutting down",
    responses=DRAINING,
)
async def readyz(state: State) -> Readiness:
    if state.draining:
        raise ServiceError(503, "shutting down: finishing the requests in flight", "draining")
    assert state.recognizer is not None
    return Readiness(status="ready", model=state.recognizer.name)


# HEAD for probes that send it; out of the schema, where one route's two methods would share an operation id.
for probe in (healthz, readyz):
    router.add_api_route(f"/{probe.__name__}", probe, methods=["HEAD"], include_in_schema=False)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    registry = service_state(request).metrics
    return Response(registry.render(), media_type=registry.content_type)
