"""Bad input never causes a 500 (design.md section 8): what every service's HTTP layer refuses first.

`RequestGuard` answers before a route runs: 413 for a body over the limit; 422 for a JSON body that
does not parse, or carries a NUL or a lone surrogate (no column, log line or JSON encoder takes
them), and for a NUL in the path or query. `ERRORS` names these answers in the OpenAPI document.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024


class ErrorOut(BaseModel):
    """Every refusal: a sentence, a rule breach report, or FastAPI's list of validation errors."""

    detail: str | list[Any] | dict[str, Any] = Field(description="Why the request was refused.")


_DESCRIPTIONS = {
    401: "No bearer token, or one that is invalid, expired or signed with a key this service does not hold",
    403: "The token may not do this: another seller's data, or an operator action",
    404: "No such resource (or none this token may see)",
    409: "Refused in the resource's current state",
    413: f"Request body over {MAX_BODY_BYTES // 1024} KiB",
    422: "The request does not validate: a field's type, range or text (no NUL or lone surrogate)",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, each with the ErrorOut body."""
    return {code: {"model": ErrorOut, "description": _DESCRIPTIONS[code]} for code in codes}


def json_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`errors` for a route whose own answers are not JSON (an HTML page): its refusals still are.

    ErrorOut is in the document's components as long as one JSON route of the app uses `errors`."""
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    return {code: {"description": _DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}
            for code in codes}


def _unsafe(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: "\ud800" in JSON decodes to one
        return True
    return False


def _unsafe_json(value: Any) -> bool:
    """Whether any string in a decoded JSON document (keys too) holds a NUL or a lone surrogate."""
    stack = [value]
    while stack:  # iterative: a deeply nested document cannot overflow the stack
        item = stack.pop()
        if isinstance(item, str):
            if _unsafe(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refusal(code: int, kind: str, where: str, message: str) -> JSONResponse:
    if code == 413:
        return JSONResponse({"detail": message}, status_code=413)
    return JSONResponse({"detail": [{"type": kind, "loc": [where], "msg": message}]}, status_code=code)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True  # FastAPI reads a body without a content type as JSON


class RequestGuard:
    """Pure ASGI middleware: buffers a request body (up to the limit) and checks it before the app sees it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            await _refusal(422, "string_unsafe", "path", "NUL in the path or query")(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refusal(413, "", "body", _DESCRIPTIONS[413])(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _refusal(413, "", "body", _DESCRIPTIONS[413])(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(scope):
            problem = _json_problem(body)
            if problem is not None:
                await _refusal(422, *problem)(scope, receive, send)
                return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _json_problem(body: bytes) -> tuple[str, str, str] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # ValueError covers bad UTF-8 as well as bad JSON
        return "json_invalid", "body", "the body is not valid UTF-8 JSON"
    if _unsafe_json(document):
        return "string_unsafe", "body", "a string holds a NUL or a lone surrogate"
    return None


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A `receive` that hands out the buffered messages, then waits on the real one (for a disconnect)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


def guard(app: FastAPI, max_body_bytes: int = MAX_BODY_BYTES) -> None:
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes)
