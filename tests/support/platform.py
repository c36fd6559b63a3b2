"""Running services in the test process: real broker, real database, real consumer groups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from sellerflow.platform import load_spec
from shared.auth import operator_token
from shared.runtime import ServiceRuntime, create_http_app
from shared.settings import Settings


@asynccontextmanager
async def running(settings: Settings, services: Sequence[str]) -> AsyncIterator[dict[str, ServiceRuntime]]:
    """Start the services together (their group joins overlap), stop them on exit."""
    assert settings.kafka_bootstrap_servers and settings.database_url
    runtimes = {
        name: ServiceRuntime(load_spec(name), settings, bootstrap_servers=settings.kafka_bootstrap_servers,
                             dsn=settings.database_url.get_secret_value())
        for name in services
    }
    async with AsyncExitStack() as stack:
        await asyncio.gather(*(runtime.start() for runtime in runtimes.values()))
        for runtime in runtimes.values():
            stack.push_async_callback(runtime.stop)
        yield runtimes


def client(runtime: ServiceRuntime, token: str | None = None) -> httpx.AsyncClient:
    """An HTTP client for a running service, without sockets; the operator's token unless one is given."""
    app = create_http_app(runtime, manage_lifecycle=False)
    token = token or operator_token(runtime.settings.auth_secret.get_secret_value())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service",
                             headers={"Authorization": f"Bearer {token}"})


def asgi_clients(runtimes: dict[str, ServiceRuntime]) -> dict[str, httpx.AsyncClient]:
    """Plain HTTP clients for running services (no default token): what an outside caller has."""
    return {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=create_http_app(runtime, manage_lifecycle=False)),
                                base_url=f"http://{name}", timeout=60.0)
        for name, runtime in runtimes.items()
    }
