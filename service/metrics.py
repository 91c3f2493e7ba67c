"""Prometheus metrics, one registry per application (so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServiceMetrics:
    """Requests by endpoint and status, latency, batch sizes, errors by kind."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ocr_lstm_requests",
            "HTTP requests handled",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ocr_lstm_request_duration_seconds",
            "Time to handle a request, until its response is sent",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "ocr_lstm_errors", "Requests refused or failed, by kind", ["kind"], registry=self.registry
        )
        self.batch_size = Histogram(
            "ocr_lstm_batch_size", "Images per model call", buckets=BATCH_BUCKETS, registry=self.registry
        )
        self.images = Counter("ocr_lstm_images", "Images recognized", registry=self.registry)
        self.skipped = Counter(
            "ocr_lstm_skipped_items",
            "Queued images dropped because their request had gone",
            registry=self.registry,
        )
        self.model_loaded = Gauge(
            "ocr_lstm_model_loaded", "1 once the model is loaded", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
