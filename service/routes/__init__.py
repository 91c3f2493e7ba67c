"""The routes, one ``APIRouter`` per kind: recognition (/v1), operations (probes, metrics), the page and docs."""
