"""Session-wide infrastructure: one broker and one database server; each test gets its own prefixes.

With KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL set, the tests use those; otherwise they start the
embedded default (Tansu and PostgreSQL from their wheels) once for the whole session.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from shared.embedded import Infrastructure, embedded_infrastructure
from shared.settings import Settings

SPANS = InMemorySpanExporter()
#: Tests trade the embedded PostgreSQL's crash safety for speed (the platform's own default is durable);
#: set here so the subprocesses that tests start inherit it too. EMBEDDED_DURABLE=true in the
#: environment keeps it on.
os.environ.setdefault("EMBEDDED_DURABLE", "false")


def pytest_configure(config: pytest.Config) -> None:
    # FastStream logs every batch at INFO: thousands of lines in a failing test's report.
    for noisy in ("faststream", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Tests decide what is traced: a message whose traceparent says "sampled" is; nothing else is.
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.0)))
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    trace.set_tracer_provider(provider)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    bootstrap, dsn = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    if bootstrap and dsn:
        yield Infrastructure(bootstrap, dsn, Path(tempfile.gettempdir()))
        return
    with tempfile.TemporaryDirectory(prefix="sellerflow-test-") as folder, \
            embedded_infrastructure(Path(folder), durable=Settings().embedded_durable) as embedded:
        yield embedded


@pytest.fixture
def settings(infra: Infrastructure) -> Settings:
    """Settings of one test: its own topic prefix, schema prefix and consumer groups."""
    return isolated_settings(infra)


@pytest.fixture(scope="module")
def module_settings(infra: Infrastructure) -> Settings:
    """Settings shared by a module's tests, so they can share running services (a group join is ~5 s)."""
    return isolated_settings(infra)


def isolated_settings(infra: Infrastructure) -> Settings:
    run = uuid.uuid4().hex[:10]
    return Settings(
        kafka_bootstrap_servers=infra.bootstrap_servers,
        database_url=infra.database_url,
        topic_prefix=f"t{run}.",
        db_schema_prefix=f"t{run}_",
        topic_partitions=4,
        consumer_fetch_max_wait_ms=20,
        otel_trace_sample_ratio=0.0,
    )


@pytest.fixture
def spans() -> InMemorySpanExporter:
    SPANS.clear()
    return SPANS
