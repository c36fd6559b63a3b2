"""OpenTelemetry tracing, JSON logs and Prometheus metrics (design.md section 9).

Buyer personal data never reaches a log line, a span attribute or a metric label: only ids do.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import Counter, Gauge, Histogram

TRACER_NAME = "sellerflow"

# --- Prometheus: one registry per process, labelled by service ---------------------------------
MESSAGES_HANDLED = Counter(
    "sellerflow_messages_handled_total", "Events applied by a consumer", ["service", "topic"]
)
MESSAGES_SKIPPED = Counter(
    "sellerflow_messages_duplicate_total", "Redelivered events skipped by the inbox", ["service", "topic"]
)
MESSAGES_FAILED = Counter(
    "sellerflow_messages_failed_total", "Batch attempts that failed (retried)", ["service", "kind"]
)
DEAD_LETTERED = Counter(
    "sellerflow_messages_dead_lettered_total", "Messages sent to a dead-letter topic", ["service", "topic"]
)
HANDLER_SECONDS = Histogram(
    "sellerflow_batch_handler_seconds", "Time to apply one consumed batch", ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "sellerflow_batch_size", "Records per consumed batch", ["service"],
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000),
)
OUTBOX_PUBLISHED = Counter("sellerflow_outbox_published_total", "Outbox rows relayed", ["service"])
OUTBOX_LAG = Gauge("sellerflow_outbox_unsent_rows", "Outbox rows not yet relayed", ["service"])
OUTBOX_SET_ASIDE = Counter(
    "sellerflow_outbox_set_aside_rows_total", "Outbox rows the broker refuses for good, set aside unsent",
    ["service", "topic"],
)
DEAD_LETTERS_TRUNCATED = Counter(
    "sellerflow_dead_letters_truncated_total",
    "Dead letters too large to forward whole: the .dlq record carries a preview and a reference",
    ["service", "topic"],
)
CONSUMER_LAG = Gauge(
    "sellerflow_consumer_lag", "Highwater minus position, per partition", ["service", "topic", "partition"]
)

# --- logging context: set per event by the consumer, read by the JSON formatter -----------------
_log_context: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "sellerflow_log_context", default=None
)


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Fields (event id, seller id ...) every log line inside the block carries."""
    merged = {**(_log_context.get() or {}), **fields}
    token = _log_context.set(merged)
    try:
        yield
    finally:
        _log_context.reset(token)


class JsonFormatter(logging.Formatter):
    _STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        entry.update(_log_context.get() or {})
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # FastStream logs every message at INFO: far too much at thousands per second.
    for noisy in ("faststream", "aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def setup_tracing(service: str, *, otlp_endpoint: str | None, sample_ratio: float) -> TracerProvider | None:
    """Install the global tracer provider once; a provider already installed (tests) is kept."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"sellerflow-{service}"}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider


@functools.cache
def tracer() -> trace.Tracer:
    """One tracer per process (asked for per message, `get_tracer` would build a new one each time; one
    made before the provider is set is a proxy that finds the provider once it is)."""
    return trace.get_tracer(TRACER_NAME)


def extract_context(headers: Mapping[str, str]) -> Context:
    return propagate.extract(dict(headers))


def inject_context() -> dict[str, str]:
    """The current trace context as W3C headers (traceparent, tracestate), for a Kafka message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def is_sampled(headers: Mapping[str, str]) -> bool:
    """Whether a traceparent header says 'sampled': only then is a span per message worth its cost."""
    parent = headers.get("traceparent", "")
    return len(parent) == 55 and parent.endswith("-01")
