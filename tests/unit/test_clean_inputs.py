"""Clean strings everywhere text comes in (design.md section 3 and 8): every string of every ingress
message and every HTTP request body is constrained (a pattern, an enum or a constant), and a NUL or a
lone surrogate over HTTP gets a 422, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sellerflow.platform import load_spec
from sellerflow.schemas import event_schema
from services.aftersales.http_models import MessageText
from services.listing.api import NewListingIn
from shared import http_validation
from shared.events import EVENT_TYPES, IngressPayload
from shared.settings import SERVICE_NAMES

Schema = dict[str, Any]
INGRESS_TYPES = sorted(t for t, cls in EVENT_TYPES.items() if issubclass(cls, IngressPayload))
#: Strings that cannot carry free text: parsed into a UUID or a date, or the text form of a decimal.
_NOT_TEXT = {"uuid", "date"}


def free_strings(node: Any, root: Schema, path: str = "", seen: frozenset[str] = frozenset()) -> list[str]:
    """Paths of string schemas with no pattern, enum or constant: free text nobody checks."""
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        if name in seen:
            return []
        definitions = root.get("$defs") or root.get("components", {}).get("schemas", {})
        return free_strings(definitions[name], root, path, seen | {name})
    found: list[str] = []
    unchecked = not {"pattern", "enum", "const"} & set(node) and node.get("format") not in _NOT_TEXT
    if node.get("type") == "string" and unchecked:
        found.append(path or "(root)")
    for name, sub in node.get("properties", {}).items():
        found += free_strings(sub, root, f"{path}.{name}".lstrip("."), seen)
    if isinstance(node.get("items"), dict):
        found += free_strings(node["items"], root, f"{path}[]", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        members = node.get(key, [])
        decimal = {"number"} <= {m.get("type") for m in members}  # a Decimal: number or its text
        found += [p for m in members for p in free_strings(m, root, path, seen)
                  if not (decimal and m.get("type") == "string")]
    return found


@pytest.mark.parametrize("event_type", INGRESS_TYPES)
def test_no_string_of_an_ingress_message_is_free_text(event_type: str) -> None:
    schema = event_schema(event_type)
    assert free_strings(schema, schema) == []


def http_request_bodies() -> list[tuple[str, Schema, Schema]]:
    bodies = []
    for service in SERVICE_NAMES:
        app = FastAPI()
        for router in load_spec(service).routers:
            app.include_router(router)
        document = app.openapi()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for content in operation.get("requestBody", {}).get("content", {}).values():
                    bodies.append((f"{service} {method.upper()} {path}", content["schema"], document))
    return bodies


def test_no_string_of_an_http_request_body_is_free_text() -> None:
    bodies = http_request_bodies()
    assert len(bodies) > 15  # every service's commands were found
    unchecked = [f"{route}: {where}" for route, body, document in bodies for where in free_strings(body, document)]
    assert unchecked == []


def test_the_walk_finds_an_unchecked_string() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 5},
                                                "b": {"anyOf": [{"type": "number"}, {"type": "string"}]}}}
    assert free_strings(schema, schema) == ["a"]


# --- through FastAPI ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api() -> TestClient:
    app = FastAPI()
    http_validation.install(app)

    @app.post("/reply")
    async def reply(body: MessageText) -> dict[str, str]:
        return {"text": body.text}

    @app.post("/listings")
    async def listings(body: NewListingIn) -> dict[str, str]:
        return {"title": body.title}

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("raw", [
    b'{"text": "Thanks \\ud800"}',  # a lone surrogate escape: Python's JSON parser lets it through
    b'{"text": "Thanks \xed\xa0\x80"}',  # the same as (invalid) UTF-8 bytes
    b'{"text": "Thanks\\u0000"}', b'{"text": "Thanks\\u001b[31m"}', b'{"text": "Thanks\\u0085"}',
    b'{"text": "ok", "\\udfff": 1}',  # even in a field name
])
def test_a_nul_a_control_or_a_lone_surrogate_over_http_is_a_422(api: TestClient, raw: bytes) -> None:
    answer = api.post("/reply", content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"] and all("input" not in problem for problem in answer.json()["detail"])


def test_clean_text_with_tab_newline_and_emoji_is_accepted_over_http(api: TestClient) -> None:
    answer = api.post("/reply", json={"text": "Thanks!\n\tYour parcel ships today 📦"})
    assert answer.status_code == 200 and answer.json() == {"text": "Thanks!\n\tYour parcel ships today 📦"}


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-03-02T12:00:00"])
def test_a_command_time_out_of_range_or_naive_is_a_422(api: TestClient, at: str) -> None:
    answer = api.post("/reply", json={"text": "Thanks", "at": at})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "at"]


def test_a_listing_title_with_a_nul_is_a_422(api: TestClient) -> None:
    body = {"sku": "MUG-1", "product_id": "4006381333931", "title": "Mug\x00", "brand": "Acme", "condition": "new",
            "price": "9.90", "currency": "EUR", "quantity": 1, "handling_days": 1, "fulfillment_channel": "merchant"}
    answer = api.post("/listings", json=body)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "title"]
