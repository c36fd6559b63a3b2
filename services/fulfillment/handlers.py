"""Fulfillment service entry points: the events it consumes and its HTTP routes. Each calls one use case."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from services.fulfillment import repository, service
from services.fulfillment.domain import Shipment, ShipmentError
from services.fulfillment.orders import NotShippable
from services.fulfillment.tracking import check_tracking_number, normalise_tracking_number
from shared import business_clock
from shared.auth import CurrentPrincipal, require_access
from shared.events import ingress
from shared.events import order as orders
from shared.events.clock import ClockTicked
from shared.events.common import Carrier, FulfillmentChannel, Identifier, Quantity, Sku, TrackingNumber, UtcDatetime
from shared.messaging.dispatch import Dispatcher
from shared.runtime import Ctx

events = Dispatcher()
events.on(orders.OrderConfirmed)(service.track_confirmed_order)
events.on(orders.OrderCancelled)(service.stop_cancelled_order)
events.on(orders.OrderPiiErased)(service.erase_address)
events.on(ingress.CarrierScanRecorded)(service.record_scan)
events.on(ClockTicked)(service.on_clock_tick)

router = APIRouter(prefix="/v1", tags=["fulfillment"])


def _normalised(value: object) -> object:
    return normalise_tracking_number(value) if isinstance(value, str) else value


class ShipmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Sku | None = Field(default=None, description="The SKU shipped; or name the listing.")
    listing_id: Identifier | None = Field(default=None, description="The listing shipped; or name the SKU.")
    quantity: Quantity = Field(description="Units in this shipment.")

    @model_validator(mode="after")
    def _names_what_shipped(self) -> Self:
        if self.sku is None and self.listing_id is None:
            raise ValueError("a line needs a sku or a listing_id")
        return self


class ConfirmShipment(BaseModel):
    """A merchant-fulfilled shipment: partial shipments allowed, never more than ordered."""

    model_config = ConfigDict(extra="forbid")
    carrier: Carrier
    tracking_number: Annotated[TrackingNumber, BeforeValidator(_normalised)] = Field(
        description="6-40 letters or digits (spaces dropped, upper-cased); a number that fails the carrier's "
        "format or check digit is accepted and judged invalid tracking."
    )
    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=100)
    at: UtcDatetime | None = Field(default=None, description="Business time; default: the latest clock tick.")
    shipment_id: Identifier | None = Field(
        default=None, description="Your id for it: confirming the same id again returns the first shipment."
    )


class ShipmentView(BaseModel):
    shipment_id: str
    order_id: str
    carrier: Carrier
    tracking_number: str
    tracking_format_valid: bool
    tracking_status: str = Field(description="pending, valid or invalid")
    channel: FulfillmentChannel
    lines: dict[str, int] = Field(description="SKU -> units")
    shipped_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentView:
        return cls(
            shipment_id=shipment.id, order_id=shipment.order_id, carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            tracking_format_valid=check_tracking_number(shipment.carrier, shipment.tracking_number).valid,
            tracking_status=shipment.tracking_status.value, channel=shipment.channel, lines=dict(shipment.lines),
            shipped_at=shipment.shipped_at, delivered_at=shipment.delivered_at,
        )  # fmt: skip


def _seller_of(principal: CurrentPrincipal, seller_id: str | None) -> str:
    chosen = seller_id or principal.seller_id
    if chosen is None:
        raise HTTPException(422, "the operator names a seller: ?seller_id=")
    require_access(principal, chosen)
    return chosen


@router.post(
    "/orders/{order_id}/shipments", status_code=status.HTTP_201_CREATED,
    summary="Confirm a shipment of a merchant-fulfilled order (seller)",
    responses={200: {"description": "This shipment_id was confirmed before; nothing new"},
               404: {"description": "No confirmed order of this seller with that id"},
               409: {"description": "The order is cancelled, or the marketplace ships it"},
               422: {"description": "Lines unknown or more than left to ship"}},
)
async def confirm_shipment(ctx: Ctx, principal: CurrentPrincipal, order_id: str, command: ConfirmShipment,
                           response: Response, seller_id: str | None = None) -> ShipmentView:
    seller = _seller_of(principal, seller_id)
    request = service.NewShipment(command.carrier, command.tracking_number,
                                  [(line.sku, line.listing_id, line.quantity) for line in command.lines],
                                  command.shipment_id)
    async with ctx.pool.acquire() as conn, conn.transaction():
        at = await business_clock.command_time(conn, command.at)
        shipment, new = await _refusing(service.confirm_shipment(conn, seller, order_id, request, at))
    if not new:
        response.status_code = status.HTTP_200_OK
    return ShipmentView.of(shipment)


@router.get("/orders/{order_id}/shipments", summary="The shipments of one order of the seller")
async def list_shipments(ctx: Ctx, principal: CurrentPrincipal, order_id: str,
                         seller_id: str | None = None) -> list[ShipmentView]:
    seller = _seller_of(principal, seller_id)
    rows = await repository.shipment_rows(ctx.pool, seller, order_id=order_id)
    return [ShipmentView.of(repository.shipment_of(row)) for row in rows]


async def _refusing(use_case: Awaitable[tuple[Shipment, bool]]) -> tuple[Shipment, bool]:
    try:
        return await use_case
    except service.UnknownOrder:
        raise HTTPException(404, "no confirmed order of this seller with that id") from None
    except NotShippable as refused:
        raise HTTPException(409, str(refused)) from None
    except ShipmentError as error:
        raise HTTPException(422, str(error)) from None

