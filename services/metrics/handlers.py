"""Metrics entry points: the batch fold it consumes with, and the scorecard routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter

from services.metrics import service
from shared.auth import CurrentPrincipal, require_access
from shared.events.common import UtcDatetime
from shared.runtime import Ctx

events = service.apply_batch

router = APIRouter(prefix="/v1", tags=["seller performance"])


@router.get("/sellers/{seller_id}/scorecard", summary="The seller's scorecard at the business clock's now")
async def scorecard(
    ctx: Ctx, principal: CurrentPrincipal, seller_id: str, as_of: UtcDatetime | None = None
) -> dict[str, Any]:
    require_access(principal, seller_id)
    moment: datetime | None = as_of
    return await service.sales_scorecard(ctx.pool, seller_id, moment)
