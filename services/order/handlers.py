"""Order service entry points: the events it consumes and its HTTP routes. Each calls one use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Body, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from services.order import batch, repository, service
from services.order.domain import Order, OrderError, OrderTransitionRefused
from shared import business_clock
from shared.auth import CurrentPrincipal, require_access
from shared.events.clock import ClockTicked
from shared.events.common import BusinessTime, CancelledBy, FulfillmentChannel, OrderStatus, ShippingSpeed, ShortText
from shared.events.order import OrderRejection
from shared.http_guard import errors
from shared.messaging.dispatch import Dispatcher
from shared.runtime import Ctx

events = Dispatcher()
#: Orders placed, cancellation requested, confirmed, rejected, shipped, delivered: a run at a time.
events.on_run(*service.ASKS)(batch.apply_order_events)
events.on(ClockTicked)(service.on_clock_tick)

router = APIRouter(prefix="/v1", tags=["orders"], responses=errors(401, 403, 404, 409, 413, 422))


class LineView(BaseModel):
    listing_id: str | None
    sku: str | None = Field(description="Known from the storefront, or once stock is reserved.")
    quantity: int
    unit_price: Decimal
    shipped: int = Field(description="Units shipped so far.")


class AddressView(BaseModel):
    name: str | None = Field(description="Buyer name; null once personal data is erased.")
    lines: list[str]
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None


class OrderView(BaseModel):
    order_id: str
    seller_id: str
    buyer_id: str
    status: OrderStatus
    currency: str
    total: Decimal
    purchased_at: datetime
    shipping_speed: ShippingSpeed
    fulfillment_channel: FulfillmentChannel
    lines: list[LineView]
    ship_to: AddressView
    ship_by: datetime | None
    deliver_by: datetime | None
    cancellation_requested_at: datetime | None = Field(description="The buyer's open cancellation request.")
    cancelled_by: CancelledBy | None
    cancel_reason: str | None
    rejection_reason: OrderRejection | None
    rejection_detail: str | None
    delivered_at: datetime | None
    pii_erased_at: datetime | None

    @classmethod
    def of(cls, order: Order) -> OrderView:
        to = order.ship_to
        return cls(
            order_id=order.id, seller_id=order.seller_id, buyer_id=order.buyer_id, status=order.status,
            currency=order.currency, total=order.total, purchased_at=order.purchased_at,
            shipping_speed=order.shipping_speed, fulfillment_channel=order.channel,
            lines=[LineView(listing_id=line.listing_id, sku=line.sku, quantity=line.quantity,
                            unit_price=line.unit_price, shipped=order.shipped.get(line.key, 0))
                   for line in order.lines],
            ship_to=AddressView(name=to.name, lines=list(to.lines), city=to.city, region=to.region,
                                postal_code=to.postal_code, country=to.country, phone=to.phone),
            ship_by=order.ship_by, deliver_by=order.deliver_by,
            cancellation_requested_at=order.cancellation_requested_at, cancelled_by=order.cancelled_by,
            cancel_reason=order.cancel_reason, rejection_reason=order.rejection_reason,
            rejection_detail=order.rejection_detail, delivered_at=order.delivered_at, pii_erased_at=order.pii_erased_at,
        )  # fmt: skip


class CancelOrder(BaseModel):
    """The seller cancels an unshipped order: counted against the seller."""

    model_config = ConfigDict(extra="forbid")
    reason: ShortText = Field(description="Why; required, up to 200 characters.")
    at: BusinessTime | None = Field(default=None, description="Business time; default: the latest clock tick.")


class AcceptCancellation(BaseModel):
    """The seller accepts the buyer's open cancellation request: not counted against the seller."""

    model_config = ConfigDict(extra="forbid")
    at: BusinessTime | None = Field(default=None, description="Business time; default: the latest clock tick.")


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
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[OrderView]:
    seller = _seller_of(principal, seller_id)
    orders = await repository.list_for_seller(ctx.pool, seller, status=status, limit=limit, offset=offset)
    return [OrderView.of(order) for order in orders]


@router.get("/orders/{order_id}", summary="One order of the seller")
async def get_order(ctx: Ctx, principal: CurrentPrincipal, order_id: str, seller_id: str | None = None) -> OrderView:
    seller = _seller_of(principal, seller_id)
    order = await repository.get(ctx.pool, seller, order_id)
    if order is None:
        raise HTTPException(404, "no such order for this seller")
    return OrderView.of(order)


@router.post("/orders/{order_id}/cancellation", summary="Cancel an unshipped order, with a reason (seller)",
             responses={404: {"description": "No such order"}, 409: {"description": "The status forbids it"}})
async def cancel_order(
    ctx: Ctx, principal: CurrentPrincipal, order_id: str, command: CancelOrder, seller_id: str | None = None
) -> OrderView:
    seller = _seller_of(principal, seller_id)
    return await _run(ctx, command.at, lambda conn, at: service.cancel_by_seller(conn, seller, order_id,
                                                                                 command.reason, at))


@router.post("/orders/{order_id}/cancellation-request/acceptance",
             summary="Accept the buyer's cancellation request (a buyer cancellation)",
             responses={404: {"description": "No such order"}, 409: {"description": "The status forbids it"},
                        422: {"description": "No open request"}})
async def accept_cancellation(
    ctx: Ctx, principal: CurrentPrincipal, order_id: str,
    command: Annotated[AcceptCancellation | None, Body()] = None, seller_id: str | None = None,
) -> OrderView:
    seller = _seller_of(principal, seller_id)
    at = command.at if command else None
    return await _run(ctx, at, lambda conn, when: service.accept_cancellation(conn, seller, order_id, when))


async def _run(
    ctx: Ctx, at: datetime | None, use_case: Callable[[asyncpg.Connection, datetime], Awaitable[Order]]
) -> OrderView:
    """A command in one transaction, with its business time; domain refusals as HTTP answers."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        when = await business_clock.command_time(conn, at)
        try:
            order = await use_case(conn, when)
        except service.UnknownOrder:
            raise HTTPException(404, "no such order for this seller") from None
        except OrderTransitionRefused as refused:
            raise HTTPException(409, str(refused)) from None
        except OrderError as error:
            raise HTTPException(422, str(error)) from None
    return OrderView.of(order)
