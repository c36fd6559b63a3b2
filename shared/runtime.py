"""The host every service runs in: migrations, pool, broker, batch subscriber, outbox relay, HTTP.

A service declares a `ServiceSpec` in its app.py; `ServiceRuntime` starts and stops the parts in
order, and `create_http_app` serves /healthz, /readyz, /metrics, OpenAPI and the service's routes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared import business_clock, db, http_validation, ops_api, telemetry
from shared.auth import TokenKeys
from shared.events import topics
from shared.http_guard import guard
from shared.messaging import ledger
from shared.messaging.broker import create_topics, make_broker, relay_publisher, subscribe
from shared.messaging.consumer import BatchHandler, BatchProcessor
from shared.messaging.outbox import OutboxRelay, unsent_count
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
        await db.migrate(self.dsn, self.schema, self.migration_dirs)
        pool = await db.create_pool(self.dsn, self.schema, size=settings.db_pool_size)
        broker = make_broker(settings, self.bootstrap_servers, client_id=f"sellerflow-{spec.name}")
        self._context = ServiceContext(spec.name, settings, pool, self.schema, broker)
        await create_topics(settings, self.bootstrap_servers, topics.ALL_TOPICS)
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
        self._tasks = [asyncio.create_task(self._relay.run(), name=f"{spec.name}-outbox-relay")]
        self._tasks.append(asyncio.create_task(ledger.keep_retention(pool, settings.dlq_retention_seconds)))
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
        await self._context.broker.stop()  # a batch in flight finishes within the graceful timeout
        await self._context.pool.close()
        self._context = None

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {"started": self.ready}
        if self._context is None:
            return checks
        try:
            checks["pending_migrations"] = await db.pending_migrations(self._context.pool, self.migration_dirs)
            checks["database"] = True
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        checks["broker"] = await self._context.broker.ping(timeout=2.0)
        return checks

    async def progress(self) -> dict[str, Any]:
        """How far this replica has got: the simulator waits for every service to be idle before a tick.

        Idle means nothing fetched and unapplied (lag = highwater - position over the assigned
        partitions, and no batch in flight) and nothing staged and unsent in the outbox.
        """
        ctx = self.context
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
        now = await business_clock.current(ctx.pool)
        processor = self._processor
        return {
            "service": self.spec.name,
            "business_now": now,
            "consumer_lag": lag,
            "batches_in_flight": processor.in_flight if processor else 0,
            "batches_applied": processor.batches if processor else 0,
            "records_consumed": processor.records if processor else 0,
            "inputs": list(self.spec.inputs),
            "consumed": dict(processor.consumed) if processor else {},
            "published": dict(self._relay.published) if self._relay else {},
            "outbox_unsent": unsent,
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

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": spec.name}

    @app.get("/readyz", tags=["operations"], summary="Broker and database reachable, migrations applied")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ok = checks.get("started") is True and checks.get("database") is True and checks.get("broker") is True \
            and not checks.get("pending_migrations")
        return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)

    @app.get("/ops/progress", tags=["operations"], summary="Consumer lag, batches in flight, unsent outbox rows")
    async def progress() -> dict[str, Any]:
        return await runtime.progress()

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=PlainTextResponse,
             responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}})
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(ops_api.router)  # the operator's dead letters and set-aside outbox rows
    for router in spec.routers:
        app.include_router(router)
    guard(app)  # 413 and 422 before any route runs: bad input never causes a 500
    return app


def setup_process(service: str, settings: Settings) -> None:
    telemetry.setup_logging(service, settings.log_level)
    telemetry.setup_tracing(service, otlp_endpoint=settings.otel_exporter_otlp_endpoint,
                            sample_ratio=settings.otel_trace_sample_ratio)
