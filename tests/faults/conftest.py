"""The fault suite's platform: listing, order, fulfillment and metrics as processes on the session's broker
and database, started once for the fault tests that need processes (each test has its own seller) and
stopped when the suite is done."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from shared.embedded import Infrastructure
from shared.settings import Settings
from tests.conftest import isolated_settings
from tests.faults.processes import ServiceProcesses, service_processes

SERVICES = ("listing", "order", "fulfillment", "metrics")


@pytest.fixture(scope="session")
def fault_settings(infra: Infrastructure) -> Settings:
    return isolated_settings(infra)


@pytest.fixture(scope="package")  # stopped once the fault suite is done: idle consumers still poll
def services(fault_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcesses]:
    with service_processes(fault_settings, SERVICES, tmp_path_factory.mktemp("fault-services")) as running:
        yield running


@pytest.fixture
async def listing(services: ServiceProcesses) -> AsyncIterator[httpx.AsyncClient]:
    async with services.client("listing") as client:
        yield client


@pytest.fixture
async def metrics(services: ServiceProcesses) -> AsyncIterator[httpx.AsyncClient]:
    async with services.client("metrics") as client:
        yield client


@pytest.fixture
def dsn(fault_settings: Settings) -> str:
    assert fault_settings.database_url
    return fault_settings.database_url.get_secret_value()
