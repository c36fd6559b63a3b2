"""Order service entry points: the events it consumes and its HTTP routes. Each calls one use case."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from services.order import repository, service
from shared.auth import CurrentPrincipal, require_access
from shared.events.common import OrderStatus
from shared.events.ingress import CheckoutOrderPlaced
from shared.messaging.dispatch import Dispatcher
from shared.runtime import Ctx

events = Dispatcher()
events.on(CheckoutOrderPlaced)(service.place_order)

router = APIRouter(prefix="/v1", tags=["orders"])


class OrderView(BaseModel):
    order_id: str
    seller_id: str
    buyer_id: str
    status: OrderStatus
    currency: str
    total: Decimal
    purchased_at: datetime
    shipping_speed: str
    fulfillment_channel: str
    lines: list[dict[str, Any]]
    ship_to: dict[str, Any] | None
    ship_by: datetime | None
    deliver_by: datetime | None

    @classmethod
    def of(cls, row: repository.OrderRow) -> OrderView:
        return cls.model_validate(row, from_attributes=True)


def _seller_of(principal: CurrentPrincipal, seller_id: str | None) -> str:
    chosen = seller_id or principal.seller_id
    if chosen is None:
        raise HTTPException(422, "the operator names a seller: ?seller_id=")
    require_access(principal, chosen)
    return chosen


@router.get("/orders", summary="The seller's orders by due date, optionally of one status")
async def list_orders(
    ctx: Ctx,
    principal: CurrentPrincipal,
    status: OrderStatus | None = None,
    seller_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrderView]:
    seller = _seller_of(principal, seller_id)
    rows = await repository.list_for_seller(ctx.pool, seller, status=status, limit=limit, offset=offset)
    return [OrderView.of(row) for row in rows]


@router.get("/orders/{order_id}", summary="One order of the seller")
async def get_order(ctx: Ctx, principal: CurrentPrincipal, order_id: str, seller_id: str | None = None) -> OrderView:
    seller = _seller_of(principal, seller_id)
    row = await repository.get(ctx.pool, seller, order_id)
    if row is None:
        raise HTTPException(404, "no such order for this seller")
    return OrderView.of(row)
