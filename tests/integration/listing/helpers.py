"""What the listing service's integration tests share: registrations, listings, events as other services send them."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx

from shared.auth import seller_token
from shared.events import Event, new_event, parse_event
from shared.events.common import EnforcementAction, HealthBand, Money
from shared.events.fulfillment import ShipmentConfirmed, ShipmentLine
from shared.events.metrics import SellerEnforcementDecided
from shared.events.order import OrderCancelled, OrderPlaced, OrderRejected, OrderRejection, PlacedLine
from shared.runtime import ServiceRuntime
from tests.support.factories import T0, unique
from tests.support.kafka import eventually, read_topic
from tests.support.platform import client

#: Stock event types, as the tests look for them on listing.events.
RESERVED = "sellerflow.inventory.reserved.v1"
FAILED = "sellerflow.inventory.reservation_failed.v1"
RELEASED = "sellerflow.inventory.released.v1"
ADJUSTED = "sellerflow.inventory.adjusted.v1"

AT = T0.isoformat()
IBAN = "DE89370400440532013000"


def tax_id() -> str:
    return f"DE{random.randrange(10**8, 10**9)}"


def registration(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_name": "Ada Lovelace",
        "country": "GB",
        "business_type": "individual",
        "contact_email": "ada@example.co.uk",
        "tax_id": tax_id(),
        "bank_account": {"iban": IBAN},
        "identity_document": {"type": "passport", "number": "C01X00T47", "holder_name": "LOVELACE, Ada",
                              "expiry_date": "2030-01-31"},
        "at": AT,
    }
    body.update(changes)
    return body


def listing_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": unique("SKU"),
        "product_id": gtin(),
        "title": "Stoneware Coffee Mug, 350 ml, Blue",
        "brand": "Kiln & Co",
        "description": "A glazed stoneware mug.<br>Dishwasher safe.",
        "bullet_points": ["Holds 350 ml"],
        "condition": "new",
        "price": "12.50",
        "currency": "USD",
        "quantity": 10,
        "handling_days": 2,
        "fulfillment_channel": "merchant",
        "image_urls": ["https://img.example-cdn.com/mug.jpg"],
        "at": AT,
    }
    body.update(changes)
    return body


def gtin() -> str:
    """A random GTIN-13 with its check digit: every listing its own product."""
    body = [random.randrange(10) for _ in range(12)]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return "".join(map(str, body)) + str((10 - total % 10) % 10)


async def new_seller(runtime: ServiceRuntime, **changes: Any) -> tuple[str, httpx.AsyncClient]:
    """A verified seller and an HTTP client carrying its token (close it, or use `async with`)."""
    async with client(runtime) as http:
        response = await http.post("/v1/sellers", json=registration(**changes))
    assert response.status_code == 201, response.text
    seller = response.json()
    assert seller["status"] == "active", seller
    return seller["seller_id"], client(runtime, seller["token"])


def token_of(runtime: ServiceRuntime, seller_id: str) -> str:
    return seller_token(runtime.settings.auth_secret.get_secret_value(), seller_id)


async def new_listing(http: httpx.AsyncClient, seller_id: str, **changes: Any) -> dict[str, Any]:
    response = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body(**changes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def order_placed(seller_id: str, lines: list[dict[str, Any]], order_id: str | None = None) -> Event[Any]:
    order_id = order_id or unique("O")
    placed = [PlacedLine.model_validate({**line, "unit_price": {"amount": "10.00", "currency": "USD"}})
              for line in lines]
    total = Decimal("10.00") * sum(line.quantity for line in placed)
    data = OrderPlaced(order_id=order_id, purchased_at=T0, fulfillment_channel="merchant", buyer_id="B-1",
                       lines=placed, currency="USD", total=Money(amount=total, currency="USD"),
                       shipping_speed="standard", ship_to_country="US")
    return new_event(data, seller_id=seller_id, subject=order_id, time=T0, source="/sellerflow/order")


def order_cancelled(placed: Event[Any]) -> Event[Any]:
    order = placed.data
    data = OrderCancelled(order_id=order.order_id, purchased_at=T0, fulfillment_channel="merchant", by="buyer",
                          reason="changed my mind", before_shipment=True, cancelled_at=T0 + timedelta(hours=1))
    return new_event(data, seller_id=placed.sellerid, subject=order.order_id, time=T0 + timedelta(hours=1),
                     source="/sellerflow/order")


def order_rejected(placed: Event[Any], reason: OrderRejection = OrderRejection.OUT_OF_STOCK) -> Event[Any]:
    data = OrderRejected(order_id=placed.data.order_id, purchased_at=T0, fulfillment_channel="merchant", reason=reason)
    return new_event(data, seller_id=placed.sellerid, subject=data.order_id, time=T0 + timedelta(minutes=5),
                     source="/sellerflow/order")


def shipment_confirmed(placed: Event[Any], lines: list[tuple[str, str, int]]) -> Event[Any]:
    order = placed.data
    shipped = T0 + timedelta(days=1)
    data = ShipmentConfirmed(
        order_id=order.order_id, purchased_at=T0, fulfillment_channel="merchant", shipment_id=unique("SH"),
        shipped_at=shipped, ship_by=T0 + timedelta(days=2), deliver_by=T0 + timedelta(days=7), carrier="ups",
        tracking_number="1Z999AA10123456784", tracking_format_valid=True,
        lines=[ShipmentLine(listing_id=listing_id, sku=sku, quantity=q) for listing_id, sku, q in lines],
    )
    return new_event(data, seller_id=placed.sellerid, subject=data.shipment_id, time=shipped,
                     source="/sellerflow/fulfillment")


def enforcement(seller_id: str, action: EnforcementAction, *, hours: int = 1) -> Event[Any]:
    data = SellerEnforcementDecided(as_of=T0 + timedelta(hours=hours), action=action,
                                    reasons=[f"{action.value}: order defect rate above 1%"], rating=150,
                                    band=HealthBand.AT_RISK)
    return new_event(data, seller_id=seller_id, subject=seller_id, time=T0 + timedelta(hours=hours),
                     source="/sellerflow/metrics")


async def published(runtime: ServiceRuntime, topic: str, *, seller_id: str) -> list[Event[Any]]:
    """Every event the service published on `topic` about one seller, once its outbox is relayed."""
    pool = runtime.context.pool

    async def relayed() -> bool:
        unsent: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return unsent == 0

    await eventually(relayed, what="the outbox relayed")
    count: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic)
    records = await read_topic(runtime.settings, topic, expect=count)
    events = [parse_event(record.value, topic=topic) for record in records]
    return [event for event in events if event.sellerid == seller_id]


def of_type(events: list[Event[Any]], event_type: str) -> list[Any]:
    return [event.data for event in events if event.type == event_type]

