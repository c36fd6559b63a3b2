"""Events as other systems would send them, with unique ids so tests never collide."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.events import Event, new_event
from shared.events.ingress import CheckoutOrderPlaced

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def checkout_order(
    seller_id: str,
    order_id: str | None = None,
    *,
    purchased_at: datetime = T0,
    quantity: int = 1,
    unit_price: str = "10.00",
    currency: str = "USD",
    channel: str = "merchant",
    listing_id: str = "L-1",
) -> Event[Any]:
    order_id = order_id or unique("O")
    data = CheckoutOrderPlaced.model_validate({
        "order_id": order_id,
        "buyer_id": "B-1",
        "lines": [{"listing_id": listing_id, "quantity": quantity,
                   "unit_price": {"amount": Decimal(unit_price), "currency": currency}}],
        "currency": currency,
        "purchased_at": purchased_at,
        "ship_to": {"name": "Ada Buyer", "lines": ["1 Main St"], "city": "Springfield", "region": "IL",
                    "postal_code": "62701", "country": "US"},
        "shipping_speed": "standard",
        "fulfillment_channel": channel,
    })
    return new_event(data, seller_id=seller_id, subject=order_id, time=purchased_at,
                     source="https://storefront.example/checkout")

