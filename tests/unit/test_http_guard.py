"""Bad input never reaches a route as a 500: the request guard every service's HTTP app carries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from shared.http_guard import MAX_BODY_BYTES, guard


class Note(BaseModel):
    text: str
    tags: list[str] = []


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/notes")
    async def add(note: Note) -> dict[str, str]:
        note.text.encode("utf-8")  # what a database driver does: it fails on a lone surrogate
        if "\x00" in note.text:
            raise AssertionError("a NUL reached the route")
        return {"text": note.text}

    @app.get("/notes/{name}")
    async def get(name: str) -> dict[str, str]:
        return {"name": name}

    guard(app)
    return app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://svc") as client:
        yield client


async def _post(http: httpx.AsyncClient, raw: bytes | str) -> httpx.Response:
    content = raw.encode() if isinstance(raw, str) else raw
    return await http.post("/notes", content=content, headers={"content-type": "application/json"})


async def test_a_plain_body_passes_through_unchanged(http: httpx.AsyncClient) -> None:
    response = await _post(http, json.dumps({"text": "Grüße ✓", "tags": ["a"]}))
    assert response.status_code == 200 and response.json() == {"text": "Grüße ✓"}


@pytest.mark.parametrize(
    "raw",
    [
        r'{"text": "a\u0000b"}',  # NUL
        r'{"text": "\ud800"}',  # lone high surrogate
        r'{"text": "x", "tags": ["\udfff"]}',  # lone low surrogate, nested
        r'{"te\u0000xt": "key with a NUL"}',
        '{"text": ',  # cut short
        b'{"text": "\xff\xfe"}',  # not UTF-8
        "[" * 100_000 + "]" * 100_000,  # nested deeper than any parser's stack
    ],
    ids=["nul", "high surrogate", "low surrogate in a list", "nul in a key", "cut short", "not utf-8", "deep"],
)
async def test_a_body_with_a_nul_a_lone_surrogate_or_no_valid_json_is_a_422(
    http: httpx.AsyncClient, raw: bytes | str,
) -> None:
    response = await _post(http, raw)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body"]


async def test_a_paired_surrogate_escape_is_an_ordinary_character(http: httpx.AsyncClient) -> None:
    response = await _post(http, r'{"text": "\ud83d\ude00"}')
    assert response.status_code == 200 and response.json() == {"text": "\U0001f600"}


async def test_a_body_over_the_limit_is_a_413_whether_declared_or_streamed(http: httpx.AsyncClient) -> None:
    huge = json.dumps({"text": "x" * MAX_BODY_BYTES}).encode()
    declared = await _post(http, huge)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the guard counts what arrives
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start:start + 64 * 1024]

    streamed = await http.post("/notes", content=chunks(), headers={"content-type": "application/json"})
    assert declared.status_code == streamed.status_code == 413
    assert "detail" in declared.json()


async def test_a_nul_in_the_path_or_query_is_a_422(http: httpx.AsyncClient) -> None:
    assert (await http.get("/notes/a%00b")).status_code == 422
    assert (await http.get("/notes/a", params={"q": "x\x00"})).status_code == 422
    assert (await http.get("/notes/ok")).json() == {"name": "ok"}
