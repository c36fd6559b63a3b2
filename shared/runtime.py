"""The host every service runs in: migrations, pool, broker, batch subscriber, outbox relay, HTTP.

A service declares a `ServiceSpec` in its app.py; `ServiceRuntime` starts and stops the parts in
order, and `create_http_app` serves /healthz, /readyz, /metrics, OpenAPI and the service's routes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared import business_clock, db, http_validation, ops_api, telemetry
from shared.auth import TokenKeys
from shared.events import topics
from shared.http_guard import guard
from shared.messaging import ledger
from shared.messaging.broker import create_topics, make_broker, relay_publisher, subscribe
from shared.messaging.consumer import BatchHandler, BatchProcessor
from shared.messaging.outbox import OutboxRelay, unsent_count
from shared.ops_models import Alive, Progress, Readiness
from shared.recovery import BrokerGuard
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceContext:
    """What a service's handlers and routes need at run time."""

    name: str
    settings: Settings
    pool: asyncpg.Pool
    schema: str
    broker: KafkaBroker


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    description: str
    migrations: Path
    inputs: tuple[str, ...] = ()  # logical topics consumed, by one batch subscriber
    make_handler: Callable[[ServiceContext], BatchHandler] | None = None
    routers: tuple[APIRouter, ...] = ()
    #: Long-running tasks beside the consumer (none yet need one; deadlines come from clock ticks).
    background: tuple[Callable[[ServiceContext], Coroutine[Any, Any, None]], ...] = field(default=())


class ServiceRuntime:
    def __init__(self, spec: ServiceSpec, settings: Settings, *, bootstrap_servers: str, dsn: str) -> None:
        self.spec = spec
        self.settings = settings
        self.bootstrap_servers = bootstrap_servers
        self.dsn = dsn
        self.schema = settings.schema_for(spec.name)
        self.ready = False
        self._context: ServiceContext | None = None
        self._relay: OutboxRelay | None = None
        self._processor: BatchProcessor | None = None
        self._guard: BrokerGuard | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def context(self) -> ServiceContext:
        if self._context is None:
            raise RuntimeError(f"{self.spec.name} is not started")
        return self._context

    @property
    def migration_dirs(self) -> list[Path]:
        return [db.MESSAGING_MIGRATIONS, self.spec.migrations]

    async def start(self) -> None:
        spec, settings = self.spec, self.settings
        telemetry.instrument_database()
        await db.migrate(self.dsn, self.schema, self.migration_dirs)
        pool = await db.create_pool(self.dsn, self.schema, size=settings.db_pool_size)
        broker = make_broker(settings, self.bootstrap_servers, client_id=f"sellerflow-{spec.name}")
        self._context = ServiceContext(spec.name, settings, pool, self.schema, broker)
        await create_topics(settings, self.bootstrap_servers, topics.ALL_TOPICS)
        self._guard = BrokerGuard(settings, self.bootstrap_servers, broker, pool, self.schema, topics.ALL_TOPICS,
                                  interval=settings.broker_check_seconds)
        await self._guard.start()
        if spec.inputs and spec.make_handler is not None:
            processor = BatchProcessor(
                pool=pool,
                handler=spec.make_handler(self._context),
                service=spec.name,
                group=f"{settings.topic_prefix}{spec.name}",
                logical_topic=settings.logical_topic,
                max_transient_wait=settings.consumer_max_transient_wait,
                max_clock_skew=settings.max_clock_skew,
                max_message_bytes=settings.kafka_max_message_bytes,
            )
            subscribe(broker, processor, settings, spec.inputs, description=spec.description)
            self._processor = processor
        await broker.start()  # returns once the consumer group has assigned this replica its partitions
        self._relay = OutboxRelay(
            pool, relay_publisher(broker), dsn=self.dsn, schema=self.schema, service=spec.name,
            physical_topic=settings.topic, batch_size=settings.relay_batch_size,
            retention_seconds=settings.outbox_retention_seconds, max_message_bytes=settings.kafka_max_message_bytes,
        )
        self._tasks = [asyncio.create_task(self._relay.run(), name=f"{spec.name}-outbox-relay"),
                       asyncio.create_task(self._guard.run(), name=f"{spec.name}-broker-guard"),
                       asyncio.create_task(ledger.keep_retention(pool, settings.dlq_retention_seconds))]
        self._tasks += [asyncio.create_task(task(self._context)) for task in spec.background]
        self.ready = True
        log.info("service started", extra={"schema": self.schema, "inputs": list(spec.inputs)})

    async def stop(self) -> None:
        self.ready = False
        if self._context is None:
            return
        if self._relay is not None:
            self._relay.stop()  # it finishes the pass under way; rows staged later wait for the next start
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._guard is not None:
            await self._guard.stop()
        await self._context.broker.stop()  # a batch in flight finishes within the graceful timeout
        await self._context.pool.close()
        self._context = None

    async def readiness(self) -> dict[str, Any]:
        """Each check True when it passes, else what is wrong (design.md section 8)."""
        checks: dict[str, Any] = {"started": self.ready}
        if self._context is None:
            return checks
        try:
            pending = await db.pending_migrations(self._context.pool, self.migration_dirs)
            checks["database"] = True
            checks["migrations"] = True if not pending else f"pending: {', '.join(map(str, pending))}"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        reachable = await self._context.broker.ping(timeout=2.0)
        problem = self._guard.problem if self._guard is not None else None
        checks["broker"] = problem or (True if reachable else "unreachable")
        if self.spec.inputs:
            assigned = self.assigned_partitions()
            checks["partitions"] = True if assigned else "none assigned to this replica's consumer"
        return checks

    def assigned_partitions(self) -> int:
        """Partitions the batch subscriber's consumer holds now (0 while it joins, or has none)."""
        consumers = [getattr(s, "consumer", None) for s in self.context.broker.subscribers]
        return sum(len(c.assignment()) for c in consumers if c is not None)

    async def progress(self) -> dict[str, Any]:
        """How far this replica has got: the simulator waits for every service to be idle before a tick.

        Idle means nothing fetched and unapplied (lag = highwater - position over the assigned
        partitions, and no batch in flight) and nothing staged and unsent in the outbox.
        """
        ctx = self.context
        processor, relay = self._processor, self._relay
        # What was consumed is read before the outbox query and the rest after it, or a batch or a relay pass
        # that ends during the query looks idle: a batch committed meanwhile is then missing from `consumed`
        # (or still in flight), a row the query saw sent is counted in `published` (or its pass still running).
        consumed = dict(processor.consumed) if processor else {}
        lag = 0
        for subscriber in ctx.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is not None:
                    lag += max(highwater - await consumer.position(partition), 0)
        unsent = await unsent_count(ctx.pool)
        published = dict(relay.published) if relay else {}
        relaying = relay.passing if relay else False
        in_flight = processor.in_flight if processor else 0
        now = await business_clock.current(ctx.pool)
        return {
            "service": self.spec.name,
            "business_now": now,
            "consumer_lag": lag,
            "batches_in_flight": in_flight,
            "batches_applied": processor.batches if processor else 0,
            "records_consumed": processor.records if processor else 0,
            "inputs": list(self.spec.inputs),
            "consumed": consumed,
            "published": published,
            "outbox_unsent": unsent,
            "relaying": relaying,
        }

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceRuntime]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


async def get_context(request: Request) -> ServiceContext:  # async: no worker thread per request
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.context


Ctx = Annotated[ServiceContext, Depends(get_context)]


def create_http_app(runtime: ServiceRuntime, *, manage_lifecycle: bool = True) -> FastAPI:
    """The service's HTTP face. With `manage_lifecycle`, the app's lifespan starts and stops the runtime."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not manage_lifecycle:
            yield
            return
        async with runtime.running():
            yield

    spec = runtime.spec
    app = FastAPI(title=f"sellerflow {spec.name} service", description=spec.description, lifespan=lifespan,
                  version="1")
    app.state.runtime = runtime
    app.state.token_keys = TokenKeys.of(runtime.settings)
    http_validation.install(app)  # 422 without echoing input: a lone surrogate never makes a 500
    _answer_503_while_the_database_is_away(app)

    @app.get("/healthz", tags=["operations"], summary="The process is alive", response_model=Alive)
    async def healthz() -> Alive:
        return Alive(status="alive", service=spec.name)

    @app.get("/readyz", tags=["operations"],
             summary="Broker and database reachable, migrations applied, partitions assigned",
             response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready: see `failed`"}})
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        failed = [name for name, passed in checks.items() if passed is not True]
        ok = not failed
        return JSONResponse({"ready": ok, "service": spec.name, "failed": failed, **checks},
                            status_code=200 if ok else 503)

    @app.get("/ops/progress", tags=["operations"], summary="Consumer lag, batches in flight, unsent outbox rows",
             response_model=Progress)
    async def progress() -> Progress:
        return Progress.model_validate(await runtime.progress())

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=PlainTextResponse,
             responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}})
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(ops_api.router)  # the operator's dead letters and set-aside outbox rows
    for router in spec.routers:
        app.include_router(router)
    guard(app)  # 413 and 422 before any route runs: bad input never causes a 500
    _observe_http(app, spec.name)
    return app


def _answer_503_while_the_database_is_away(app: FastAPI) -> None:
    """The database restarting (a crash, a failover) is no server error: 503 and Retry-After, so a caller
    retries; the pool replaces its broken connections on the next request."""

    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable for a request", extra={"error": type(error).__name__})
        return JSONResponse({"detail": "the database is unavailable for a moment: retry"}, status_code=503,
                            headers={"Retry-After": "1"})

    for kind in db.TRANSIENT_DB_ERRORS:
        if issubclass(kind, Exception):
            app.add_exception_handler(kind, unavailable)


def _observe_http(app: FastAPI, service: str) -> None:
    """A server span per request (continuing the caller's `traceparent`, sampled where the trace starts) and
    Prometheus counts and latency per route template (never the raw path: ids would explode the labels)."""

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        telemetry.SERVICE.set(service)
        parent = telemetry.extract_context({k: v for k, v in request.headers.items()
                                            if k in ("traceparent", "tracestate")})
        with telemetry.tracer().start_as_current_span(f"{request.method} {request.url.path}", context=parent,
                                                      kind=SpanKind.SERVER) as span:
            status = 500
            try:
                response = await call_next(request)
                status = response.status_code
                return response
            finally:
                route = getattr(request.scope.get("route"), "path", "unmatched")
                if span.is_recording():
                    span.update_name(f"{request.method} {route}")
                    span.set_attribute("http.request.method", request.method)
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    span.set_attribute(telemetry.SERVICE_ATTRIBUTE, service)
                telemetry.HTTP_REQUESTS.labels(service, request.method, route, str(status)).inc()
                telemetry.HTTP_SECONDS.labels(service, request.method, route).observe(time.perf_counter() - started)


def setup_process(service: str, settings: Settings) -> None:
    telemetry.setup_logging(service, settings.log_level)
    telemetry.setup_tracing(service, otlp_endpoint=settings.otel_exporter_otlp_endpoint,
                            sample_ratio=settings.otel_trace_sample_ratio)
