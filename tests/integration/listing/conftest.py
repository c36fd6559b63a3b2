"""The listing service, started once per test module (a consumer-group join costs seconds)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.support.platform import running


@pytest.fixture(scope="module")
async def listing(module_settings: Settings) -> AsyncIterator[ServiceRuntime]:
    async with running(module_settings, ["listing"]) as services:
        yield services["listing"]
