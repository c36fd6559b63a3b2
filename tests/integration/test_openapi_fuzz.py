"""Every service's OpenAPI, fuzzed by schemathesis against the running service (design.md section 8).

The five services run on the real broker and database. For each operation, schemathesis draws a few
valid and a few invalid requests from the document; each is sent through the service's ASGI app on
this event loop (the services' pools live here), as the operator and as a seller, and its answer is
checked: no server error, a status code the document names, and a body that matches its schema.
Bounded: EXAMPLES per operation and mode, so it stays well under a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.auth import operator_token, seller_token
from shared.runtime import ServiceRuntime, create_http_app
from shared.settings import SERVICE_NAMES, Settings
from tests.integration.listing.helpers import registration
from tests.support.platform import running

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")]

EXAMPLES = 2
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
async def services(module_settings: Settings) -> AsyncIterator[dict[str, ServiceRuntime]]:
    async with running(module_settings, SERVICE_NAMES) as runtimes:
        yield runtimes


def _cases(schema: Any, mode: GenerationMode) -> list[Any]:
    """A few cases of every operation, drawn by Hypothesis (synchronously: run it in a thread)."""
    drawn: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        def draw(case: Any) -> None:
            drawn.append(case)

        try:
            draw()
        except Unsatisfiable:  # nothing to negate: an operation without parameters or body
            continue
    return drawn


def _request(case: Any) -> dict[str, Any]:
    """The case as httpx arguments (schemathesis serialises it for `requests`)."""
    kwargs = case.as_transport_kwargs(base_url="http://service")
    request = {k: kwargs[k] for k in ("method", "url", "headers", "params", "json") if k in kwargs}
    if "data" in kwargs:
        data = kwargs["data"]
        request["content" if isinstance(data, (bytes, str)) else "data"] = data
    return request


async def _fuzz(runtime: ServiceRuntime, token: str, modes: tuple[GenerationMode, ...]) -> tuple[int, list[str]]:
    app = create_http_app(runtime, manage_lifecycle=False)
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures, sent = [], 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        for mode in modes:
            for case in await asyncio.to_thread(_cases, schema, mode):
                response = await http.request(**_request(case))
                sent += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (AssertionError, FailureGroup) as failure:  # schemathesis: every failed check, in one
                    failures.append(f"{runtime.spec.name} {case.method} {case.formatted_path} ({mode.value}): "
                                    f"{response.status_code} {str(failure)[:600]}")
    return sent, failures


async def test_no_route_of_any_service_answers_a_fuzzed_request_with_a_server_error_or_an_undocumented_answer(
    services: dict[str, ServiceRuntime],
) -> None:
    listing = services["listing"]
    secret = listing.settings.auth_secret.get_secret_value()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_http_app(listing, manage_lifecycle=False)),
                                 base_url="http://service",
                                 headers={"Authorization": f"Bearer {operator_token(secret)}"}) as http:
        seller = (await http.post("/v1/sellers", json=registration())).json()["seller_id"]
    failures, sent = [], 0
    for name in SERVICE_NAMES:
        for token, modes in ((operator_token(secret), (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)),
                             (seller_token(secret, seller), (GenerationMode.POSITIVE,))):
            count, found = await _fuzz(services[name], token, modes)
            sent, failures = sent + count, failures + found
    assert failures == [], "\n\n".join(failures)
    print(f"{sent} fuzzed requests")
    assert sent > 150  # every operation was reached, a few times
