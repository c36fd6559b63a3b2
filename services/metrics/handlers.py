"""Metrics entry points: the batch fold it consumes with, the seller performance routes and the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.metrics import dashboard, queries, repository, service, views
from services.metrics.http_models import AtRiskOut, DefectsOut, HealthOut, ScorecardOut
from services.metrics.policy import DEFAULT_POLICY
from shared.auth import CurrentPrincipal, Principal, require_access, require_operator
from shared.browser_session import BrowserSignIn
from shared.events.common import BusinessTime, FulfillmentChannel
from shared.events.metrics import MetricName
from shared.http_guard import errors
from shared.runtime import Ctx

events = service.Fold()

router = APIRouter(prefix="/v1", tags=["seller performance"], responses=errors(401, 403, 404, 422))
pages = APIRouter(tags=["seller dashboard"])
signin = BrowserSignIn(path="/dashboard", sign_in_page=dashboard.sign_in_page)

AsOf = Annotated[BusinessTime | None, Query(description="A past business day: windows end with that day.")]
NO_TIME_YET = errors(409)


async def _moment(ctx: Ctx, as_of: datetime | None) -> datetime:
    now = await queries.moment(ctx.pool, as_of)
    if now is None:
        raise HTTPException(409, "no business time yet: nothing has been consumed")
    return now


async def _known(ctx: Ctx, principal: Principal, seller_id: str) -> None:
    """403 for another seller's data, then 404 for a seller no event has named."""
    require_access(principal, seller_id)
    if not await repository.known_seller(ctx.pool, seller_id):
        raise HTTPException(404, f"no seller {seller_id}")


@router.get("/sellers/at-risk", summary="Sellers at risk or critical, lowest rating first (operator)")
async def at_risk(ctx: Ctx, principal: CurrentPrincipal,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AtRiskOut]:
    require_operator(principal)
    rows = await repository.at_risk(ctx.pool, limit)
    return [AtRiskOut(rank=i + 1, seller_id=r["seller_id"], rating=r["rating"], band=r["band"],
                      breached_metrics=list(r["breaches"]), enforcement_level=r["level"],
                      account_status=r["account_status"], as_of=r["computed_at"]) for i, r in enumerate(rows)]


@router.get("/sellers/{seller_id}/scorecard", response_model=ScorecardOut, responses=NO_TIME_YET,
            summary="Every metric against its target, sales, rating and band")
async def scorecard(ctx: Ctx, principal: CurrentPrincipal, seller_id: str, as_of: AsOf = None) -> dict[str, Any]:
    await _known(ctx, principal, seller_id)
    now = await _moment(ctx, as_of)
    view = await queries.view(ctx.pool, seller_id, now, DEFAULT_POLICY, live=as_of is None)
    return views.scorecard_json(seller_id, now, view.card, view.health, DEFAULT_POLICY.fulfilled_window)


@router.get("/sellers/{seller_id}/health", response_model=HealthOut, responses=NO_TIME_YET,
            summary="Account health rating, band and the ledger of every point")
async def health(ctx: Ctx, principal: CurrentPrincipal, seller_id: str, as_of: AsOf = None) -> dict[str, Any]:
    await _known(ctx, principal, seller_id)
    now = await _moment(ctx, as_of)
    view = await queries.view(ctx.pool, seller_id, now, DEFAULT_POLICY, full=True)
    standing = await repository.standing(ctx.pool, seller_id)
    enforcement = None if standing is None else {"level": standing.standing.level.name.lower(),
                                                  "decided_at": standing.standing.decided_at}
    return {"seller_id": seller_id, "as_of": now, **views.health_json(view.health), "enforcement": enforcement}


@router.get("/sellers/{seller_id}/defects", response_model=DefectsOut, responses=NO_TIME_YET,
            summary="The items behind a metric: order, kind, dates")
async def defects(
    ctx: Ctx, principal: CurrentPrincipal, seller_id: str,
    metric: MetricName | None = None, channel: FulfillmentChannel | None = None,
    window: Annotated[int | None, Query(ge=1, le=365, description="One of the metric's windows")] = None,
    as_of: AsOf = None,
) -> dict[str, Any]:
    await _known(ctx, principal, seller_id)
    now = await _moment(ctx, as_of)
    rules = [r for r in DEFAULT_POLICY.rates if metric is None or r.name is metric]
    rules = [r for r in rules if channel is None or r.channel in (None, channel)]
    if not rules:
        raise HTTPException(404, "no such metric for that channel")
    view = await queries.view(ctx.pool, seller_id, now, DEFAULT_POLICY)
    wanted = [(rule, span) for rule in rules for span in rule.windows if window is None or span == window]
    found = await queries.drilldowns(ctx.pool, seller_id, wanted, now)
    groups = []
    for rule, span in wanted:
        rate = next(r for r in view.card.rates if r.key == rule.key and r.window_days == span)
        groups.append({**views.rate_json(rate), "items": [item.json() for item in found[(rule.key, span)]]})
    if not groups:
        raise HTTPException(404, "no such window for that metric")
    return {"seller_id": seller_id, "as_of": now, "metrics": groups}


pages.include_router(signin.router())
