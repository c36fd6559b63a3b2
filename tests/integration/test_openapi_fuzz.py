"""Every service's OpenAPI, fuzzed by schemathesis against the running service (design.md section 8).

The five services run on the real broker and database. For each operation, schemathesis draws a few
valid and a few invalid requests from the document; each is sent through the service's ASGI app on
this event loop (the services' pools live here), as the operator and as a seller, and its answer is
checked: no server error, a status code the document names, and a body that matches its schema.
Bounded: EXAMPLES per operation and mode, so it stays well under a minute. The same running services
then take a NUL, a lone surrogate and a 2 MiB body on every route (422, 422, 413: never a 500), and
expired, foreign, unsigned and malformed tokens (401 with a JSON body).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
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

from shared.auth import AUDIENCE, ISSUER, Principal, issue_token, key_id, operator_token, seller_token
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


def _operations(app: Any) -> list[tuple[str, str, bool]]:
    """(method, path with every parameter filled, whether it takes a body) of every route in the document."""
    found = []
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            filled = re.sub(r"\{[^}]+\}", "x-1", path)
            found.append((method.upper(), filled, "requestBody" in operation))
    return found


async def test_a_nul_a_lone_surrogate_or_a_huge_body_is_a_422_or_413_on_every_route_of_every_service(
    services: dict[str, ServiceRuntime],
) -> None:
    secret = services["listing"].settings.auth_secret.get_secret_value()
    hostile = {"nul": (b'{"text": "a\\u0000b"}', 422), "surrogate": (b'{"text": "\\ud800"}', 422),
               "huge": (b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}', 413)}
    answers: dict[str, int] = {}
    expected: dict[str, int] = {}
    for name in SERVICE_NAMES:
        app = create_http_app(services[name], manage_lifecycle=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service",
                                     headers={"Authorization": f"Bearer {operator_token(secret)}"}) as http:
            for method, path, has_body in _operations(app):
                if "x-1" in path:
                    key = f"{name} {method} {path}: NUL in the path"
                    answers[key], expected[key] = (await http.request(method, path.replace("x-1", "x%00"))
                                                   ).status_code, 422
                for kind, (body, status) in hostile.items() if has_body else ():
                    key = f"{name} {method} {path}: {kind}"
                    response = await http.request(method, path, content=body,
                                                  headers={"content-type": "application/json"})
                    answers[key], expected[key] = response.status_code, status
    assert answers == expected
    assert sum(key.endswith("huge") for key in answers) >= 20  # the commands of all five services


async def test_an_expired_foreign_or_unsigned_token_is_a_401_with_a_json_body_on_every_service(
    services: dict[str, ServiceRuntime], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = services["listing"].settings.auth_secret.get_secret_value()
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = {"sub": "operator", "role": "operator", "iss": ISSUER, "aud": AUDIENCE,
              "iat": int(past.timestamp()), "exp": int((past + timedelta(days=1)).timestamp())}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": key_id(secret)})
    refused = {
        "expired": issue_token(secret, Principal("operator"), ttl=timedelta(hours=1), now=past),
        "foreign": operator_token("a-different-deployment-secret-0123456789abcdef"),
        "alg none": unsigned,
        "garbage": "not.a.token",
    }
    answers = {}
    for name in SERVICE_NAMES:
        app = create_http_app(services[name], manage_lifecycle=False)
        secured = next(path for path, methods in app.openapi()["paths"].items()
                       if path.startswith("/v1/") and "get" in methods and "{" not in path)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
            for kind, token in refused.items():
                response = await http.get(secured, headers={"Authorization": f"Bearer {token}"})
                answers[f"{name} {kind}"] = (response.status_code, response.headers.get("www-authenticate"),
                                             "detail" in response.json())
    assert answers == {key: (401, "Bearer", True) for key in answers} and len(answers) == 4 * len(SERVICE_NAMES)
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert not [kind for kind, token in refused.items() if token in logged]  # no token is logged
