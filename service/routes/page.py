"""The web page and its files, the favicon, and the API documentation (Swagger UI, ReDoc), all served from
the installed packages: nothing is fetched from another origin, so every page works offline.

Swagger UI's and ReDoc's files come from the ``fastapi-offline`` wheel (its ``static`` folder); FastAPI's own
``/docs`` and ``/redoc`` would load them from a CDN and start them with an inline script, which
``DOCS_POLICY`` forbids, so the pages here are small files that load ``docs.js`` instead.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from service.headers import DOCS_POLICY, PAGE_POLICY

STATIC = Path(__file__).resolve().parents[1] / "static"
DOCS_FILES = Path(fastapi_offline.__file__).resolve().parent / "static"
JS, CSS = "text/javascript; charset=utf-8", "text/css; charset=utf-8"

# Served at /static/NAME: each a route of its own, so that the metrics name it.
ASSETS: dict[str, tuple[Path, str]] = {
    "page.js": (STATIC / "page.js", JS),
    "page.css": (STATIC / "page.css", CSS),
    "docs.js": (STATIC / "docs.js", JS),
    "swagger-ui-bundle.js": (DOCS_FILES / "swagger-ui-bundle.js", JS),
    "swagger-ui.css": (DOCS_FILES / "swagger-ui.css", CSS),
    "redoc.standalone.js": (DOCS_FILES / "redoc.standalone.js", JS),
}
HTML = "text/html; charset=utf-8"

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
async def page() -> FileResponse:
    return _html(STATIC / "index.html", PAGE_POLICY)


@router.get("/docs")
async def swagger_ui() -> FileResponse:
    return _html(STATIC / "docs.html", DOCS_POLICY)


@router.get("/redoc")
async def redoc() -> FileResponse:
    return _html(STATIC / "redoc.html", DOCS_POLICY)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
async def favicon() -> FileResponse:
    """An SVG under the name browsers ask for: every current browser takes the type from the header."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def _html(path: Path, policy: str) -> FileResponse:
    return FileResponse(path, media_type=HTML, headers={"Content-Security-Policy": policy})


def _add_asset(name: str, path: Path, media_type: str) -> None:
    async def asset() -> Response:
        return FileResponse(path, media_type=media_type)

    router.add_api_route(f"/static/{name}", asset, methods=["GET", "HEAD"], name=f"static_{name}")


for name, (path, media_type) in ASSETS.items():
    _add_asset(name, path, media_type)
