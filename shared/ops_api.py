"""The operator's HTTP API every service serves: its dead-letter ledger and its set-aside outbox rows.

`GET /v1/ops/dead-letters` lists the ledger (outstanding by default), `POST .../{id}/replay` re-drives
one letter through the service's outbox (optionally with a fixed body), `POST .../{id}/resolve` closes
one without replaying it, `GET /v1/ops/outbox/set-aside` lists the rows the broker refused for good.
Operator token only. The rules live in `shared.messaging.ledger`; `sellerflow dlq` applies the same
ones through the database.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from shared.auth import CurrentPrincipal, Principal, require_operator
from shared.messaging import ledger, outbox


async def _operator(principal: CurrentPrincipal) -> Principal:
    require_operator(principal)
    return principal


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.context.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]


class Problem(BaseModel):
    detail: str


class ReplayRequest(BaseModel):
    by: str = Field(min_length=1, max_length=200, description="Who re-drives it")
    note: str | None = Field(default=None, max_length=2000)
    body_base64: str | None = Field(default=None, description="A fixed message body to send instead, base64")


class ResolveRequest(BaseModel):
    by: str = Field(min_length=1, max_length=200, description="Who resolves it")
    note: str = Field(min_length=1, max_length=2000, description="Why it needs no replay")


_AUTH: dict[int | str, dict[str, Any]] = {401: {"model": Problem, "description": "No or a bad token"},
         403: {"model": Problem, "description": "Not the operator"}}
_ONE: dict[int | str, dict[str, Any]] = {**_AUTH, 404: {"model": Problem, "description": "No such letter"},
        409: {"model": Problem, "description": "Replayed or resolved already"}}

router = APIRouter(prefix="/v1/ops", tags=["operations"], dependencies=[Depends(_operator)])


@router.get("/dead-letters", response_model=list[ledger.LetterEntry], responses=_AUTH,
            summary="This service's dead letters (outstanding unless a status is named)")
async def list_dead_letters(
    pool: Pool,
    letter_status: Annotated[ledger.Status | None, Query(alias="status")] = "outstanding",
    all_statuses: Annotated[bool, Query(alias="all", description="Every status")] = False,
    topic: Annotated[str | None, Query(max_length=249)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[ledger.LetterEntry]:
    async with pool.acquire() as conn:
        return await ledger.list_letters(conn, status=None if all_statuses else letter_status, topic=topic,
                                         limit=limit)


@router.post("/dead-letters/{letter_id}/replay", response_model=ledger.LetterEntry,
             responses={**_ONE, 422: {"model": Problem, "description": "body_base64 is not base64, or the message"
                                                                   " is over the broker's limit"}},
             summary="Re-drive one outstanding letter to its original topic and mark it replayed")
async def replay_dead_letter(letter_id: int, request: ReplayRequest, pool: Pool, http_request: Request
                             ) -> ledger.LetterEntry:
    body = None
    if request.body_base64 is not None:
        try:
            body = base64.b64decode(request.body_base64, validate=True)
        except binascii.Error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body_base64 is not base64") from None
    async with pool.acquire() as conn:
        limit = http_request.app.state.runtime.settings.kafka_max_message_bytes
        return await _one(ledger.replay(conn, letter_id, by=request.by, note=request.note, body=body,
                                        max_message_bytes=limit))


@router.post("/dead-letters/{letter_id}/resolve", response_model=ledger.LetterEntry, responses=_ONE,
             summary="Close one outstanding letter without replaying it")
async def resolve_dead_letter(letter_id: int, request: ResolveRequest, pool: Pool) -> ledger.LetterEntry:
    async with pool.acquire() as conn:
        return await _one(ledger.resolve(conn, letter_id, by=request.by, note=request.note))


@router.get("/outbox/set-aside", response_model=list[outbox.SetAsideRow], responses=_AUTH,
            summary="Outbox rows the broker refused for good (newest first)")
async def list_set_aside(pool: Pool, limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> list[outbox.SetAsideRow]:
    return await outbox.set_aside_rows(pool, limit=limit)


async def _one(change: Awaitable[ledger.LetterEntry]) -> ledger.LetterEntry:
    try:
        entry = await change
    except ledger.LetterNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except ledger.LetterNotOutstanding as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except ledger.TooLargeToReplay as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    return entry
