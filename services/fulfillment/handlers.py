"""Fulfillment service entry points: the events it consumes and its HTTP routes. Each calls one use case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal, Self, cast

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from services.fulfillment import repository, service
from services.fulfillment.domain import Shipment
from services.fulfillment.orders import NotShippable
from services.fulfillment.tracking import check_tracking_number, normalise_tracking_number
from shared import business_clock
from shared.auth import CurrentPrincipal, require_access
from shared.events import ingress
from shared.events import order as orders
from shared.events.clock import ClockTicked
from shared.events.common import BusinessTime, Carrier, FulfillmentChannel, Identifier, Quantity, Sku, TrackingNumber
from shared.http_guard import errors
from shared.messaging.dispatch import Dispatcher
from shared.runtime import Ctx

events = Dispatcher()
events.on_run(orders.OrderConfirmed, orders.OrderCancelled, orders.OrderPiiErased)(service.follow_orders)
events.on_run(ingress.CarrierScanRecorded)(service.record_scans)
events.on(ClockTicked)(service.on_clock_tick)

router = APIRouter(prefix="/v1", tags=["fulfillment"], responses=errors(401, 403, 404, 409, 413, 422))
#: Shipments one bulk confirmation may carry.
MAX_CONFIRMATIONS = 500


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
    at: BusinessTime | None = Field(default=None, description="Business time; default: the latest clock tick.")
    shipment_id: Identifier | None = Field(
        default=None, description="Your id for it: confirming the same id again returns the first shipment."
    )

    def of_order(self, order_id: str, at: datetime) -> service.NewShipment:
        return service.NewShipment(order_id, self.carrier, self.tracking_number,
                                   [(line.sku, line.listing_id, line.quantity) for line in self.lines], at,
                                   self.shipment_id)


class ShipmentConfirmation(ConfirmShipment):
    """One shipment of a bulk confirmation: the body of the single route, with the order it belongs to."""

    order_id: Identifier = Field(description="The confirmed order this shipment belongs to.")


class ConfirmShipments(BaseModel):
    """Many shipments at once (a shipping-confirmation feed), each decided on its own, in this order."""

    model_config = ConfigDict(extra="forbid")
    confirmations: list[ShipmentConfirmation] = Field(min_length=1, max_length=MAX_CONFIRMATIONS)


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
    deliver_by: datetime = Field(description="The delivery promised to the buyer.")
    delivered_at: datetime | None

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentView:
        return cls(
            shipment_id=shipment.id, order_id=shipment.order_id, carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            tracking_format_valid=check_tracking_number(shipment.carrier, shipment.tracking_number).valid,
            tracking_status=shipment.tracking_status.value, channel=shipment.channel, lines=dict(shipment.lines),
            shipped_at=shipment.shipped_at, deliver_by=shipment.deliver_by, delivered_at=shipment.delivered_at,
        )  # fmt: skip


_UNKNOWN_ORDER = "no confirmed order of this seller with that id"
_REFUSALS = {404: "No confirmed order of this seller with that id",
             409: "The order is cancelled, or the marketplace ships it",
             422: "Lines unknown or more than left to ship"}


class ConfirmationResult(BaseModel):
    """The answer to one confirmation of a bulk: what the single route would have answered."""

    order_id: str
    status: Literal[201, 200, 404, 409, 422] = Field(
        description="201 confirmed; 200 this shipment_id was confirmed before (nothing new); 404 no confirmed "
        "order of this seller with that id; 409 the order is cancelled, or the marketplace ships it; 422 lines "
        "unknown or more than left to ship. A refused confirmation (404, 409, 422) writes nothing."
    )
    shipment: ShipmentView | None = Field(description="The shipment (201 and 200), else null.")
    error: str | None = Field(description="Why it was refused (404, 409, 422), else null.")

    @classmethod
    def of(cls, order_id: str, answer: service.Confirmation) -> ConfirmationResult:
        if answer.shipment is not None:
            return cls(order_id=order_id, status=201 if answer.new else 200,
                       shipment=ShipmentView.of(answer.shipment), error=None)
        if isinstance(answer.refusal, service.UnknownOrder):
            return cls(order_id=order_id, status=404, shipment=None, error=_UNKNOWN_ORDER)
        status_code: Literal[409, 422] = 409 if isinstance(answer.refusal, NotShippable) else 422
        return cls(order_id=order_id, status=status_code, shipment=None, error=str(answer.refusal))


class ConfirmationResults(BaseModel):
    results: list[ConfirmationResult] = Field(description="One per confirmation, in the order given.")


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
               **{code: {"description": why} for code, why in _REFUSALS.items()}},
)
async def confirm_shipment(ctx: Ctx, principal: CurrentPrincipal, order_id: str, command: ConfirmShipment,
                           response: Response, seller_id: str | None = None) -> ShipmentView:
    [answer] = await _confirm(ctx, _seller_of(principal, seller_id), [(order_id, command)])
    result = ConfirmationResult.of(order_id, answer)
    if result.shipment is None:
        raise HTTPException(result.status, result.error)
    response.status_code = result.status
    return result.shipment


@router.post(
    "/shipment-confirmations", status_code=status.HTTP_200_OK,
    summary="Confirm many shipments of merchant-fulfilled orders at once (seller)",
    description=f"1-{MAX_CONFIRMATIONS} shipments, each as `POST /v1/orders/{{id}}/shipments` takes it plus its "
    "`order_id`, decided in the order given in one transaction: two shipments of one order (a partial "
    "shipment) see each other, a refused one writes nothing and does not stop the others. The answer has "
    "one result per confirmation, in the same order, with the status the single route would answer.",
    responses={200: {"description": "One result per confirmation, in the order given (a status of its own each)"},
               403: {"description": "The token may not access that seller"},
               409: {"description": "A confirmation without `at` before the first clock tick; nothing written"},
               422: {"description": "Not 1-500 confirmations, one the single route would not take (an unknown field, "
                                    "no lines), or the operator named no seller; nothing written"}},
)
async def confirm_shipments(ctx: Ctx, principal: CurrentPrincipal, command: ConfirmShipments,
                            seller_id: str | None = None) -> ConfirmationResults:
    items = [(confirmation.order_id, confirmation) for confirmation in command.confirmations]
    answers = await _confirm(ctx, _seller_of(principal, seller_id), items)
    return ConfirmationResults(results=[ConfirmationResult.of(order_id, answer)
                                        for (order_id, _), answer in zip(items, answers, strict=True)])


@router.get("/shipments", summary="The seller's shipments in the order they left, optionally of one channel and "
            "from a time on (a marketplace-fulfilled order's shipment shows here once the warehouse ships it)")
async def list_recent_shipments(
    ctx: Ctx, principal: CurrentPrincipal, channel: FulfillmentChannel | None = None,
    shipped_since: BusinessTime | None = None, seller_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ShipmentView]:
    seller = _seller_of(principal, seller_id)
    rows = await repository.shipments_since(ctx.pool, seller, channel=channel and channel.value, since=shipped_since,
                                            limit=limit)
    return [ShipmentView.of(repository.shipment_of(row)) for row in rows]


@router.get("/orders/{order_id}/shipments", summary="The shipments of one order of the seller")
async def list_shipments(ctx: Ctx, principal: CurrentPrincipal, order_id: str,
                         seller_id: str | None = None) -> list[ShipmentView]:
    seller = _seller_of(principal, seller_id)
    rows = await repository.shipment_rows(ctx.pool, seller, order_id)
    return [ShipmentView.of(repository.shipment_of(row)) for row in rows]


async def _confirm(ctx: Ctx, seller: str, items: Sequence[tuple[str, ConfirmShipment]]
                   ) -> list[service.Confirmation]:
    """One transaction: the business time read once if some item has no `at`, then the use case."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        given = [command.at for _, command in items if command.at is not None]
        if given:  # 422 past the latest tick plus MAX_CLOCK_SKEW
            await business_clock.check_command_time(conn, max(given))
        now = None if len(given) == len(items) else await business_clock.command_time(conn, None)
        requests = [command.of_order(order_id, command.at or cast(datetime, now)) for order_id, command in items]
        return await service.confirm_shipments(conn, seller, requests)
