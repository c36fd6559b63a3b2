"""What the benchmarks that run all five services share: HTTP clients, sellers with merchant listings
registered through the public API, and storefront orders that name those listings.

Only the platform's public doors are used (`Doors`: the ingress topics, the clock and the HTTP APIs)
and the simulator's seeded `population` (who the sellers are, what they list); nothing is written to a
service's database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from sellerflow.simulate.doors import Doors
from sellerflow.simulate.population import SimSeller, population
from shared.events import Event
from shared.events.ingress import CheckoutOrderPlaced
from shared.settings import SERVICE_NAMES

#: The listing service's bound on a listing's quantity (`ListingIn.quantity`).
MAX_QUANTITY = 10_000_000


def http_clients(urls: Mapping[str, str]) -> dict[str, httpx.AsyncClient]:
    """One client per service; idle connections are let go before any server would close them."""
    limits = httpx.Limits(max_connections=32, keepalive_expiry=4.0)
    return {name: httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) for name, url in urls.items()}


async def close_clients(http: Mapping[str, httpx.AsyncClient]) -> None:
    for client in http.values():
        await client.aclose()


async def register_sellers(doors: Doors, sellers: int, *, at: datetime, quantity: int | None = None,
                           seed: int = 1, concurrency: int = 8) -> list[SimSeller]:
    """`sellers` honest sellers of the seeded population, registered (verified at once) with their
    merchant-fulfilled listings, at business time `at` (the clock is ticked to `at` first).

    `quantity`: units of each listing (default: the population's); make it large enough for every
    order the caller will place, or reservations fail `out_of_stock` and orders are rejected.
    Returns when the whole platform has applied the registrations (`/ops/progress`).
    """
    people = honest_sellers(sellers, at=at, seed=seed)
    await doors.tick(at)
    await doors.wait_idle()
    gate = asyncio.Semaphore(concurrency)

    async def register(seller: SimSeller) -> None:
        async with gate:
            outcome = await doors.register({**seller.registration, "seller_id": seller.seller_id,
                                             "at": at.isoformat()})
            seller.token = outcome["token"]
            for listing in seller.merchant_listings:
                if quantity is not None:
                    listing["quantity"] = min(quantity, MAX_QUANTITY)
                await doors.post("listing", f"/v1/sellers/{seller.seller_id}/listings",
                                 {**listing, "at": at.isoformat()}, token=seller.token)

    await asyncio.gather(*(register(s) for s in people))
    await doors.wait_idle()
    return people


@dataclass(frozen=True)
class BenchOrder:
    """A storefront order for one unit of one of a registered seller's merchant listings."""

    order_id: str
    seller: SimSeller
    listing: dict[str, Any]
    purchased_at: datetime
    speed: str = "standard"

    def payload(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id, "buyer_id": f"B-{self.order_id}",
            "lines": [{"listing_id": self.listing["listing_id"], "quantity": 1,
                       "unit_price": {"amount": self.listing["price"], "currency": self.listing["currency"]}}],
            "currency": self.listing["currency"], "purchased_at": self.purchased_at,
            "ship_to": {"name": "Bench Buyer", "lines": ["1 Market Street"], "city": "Hamburg", "region": "HH",
                        "postal_code": "20095", "country": "DE"},
            "shipping_speed": self.speed, "fulfillment_channel": self.listing["fulfillment_channel"],
        }

    def event(self, doors: Doors) -> Event[Any]:
        """The `checkout.order_placed` event for `ingress.orders`."""
        return doors.event(CheckoutOrderPlaced.model_validate(self.payload()), seller_id=self.seller.seller_id,
                           subject=self.order_id, time=self.purchased_at, source="https://bench.example")


def spread_orders(people: list[SimSeller], orders: int, tag: str, at: datetime, *, first: int = 0) -> list[BenchOrder]:
    """Orders `tag-first` ... round-robin over the sellers; order n names merchant listing n mod 4 of its seller."""
    made = []
    for n in range(first, first + orders):
        seller = people[n % len(people)]
        listings = seller.merchant_listings
        made.append(BenchOrder(f"{tag}-{n}", seller, listings[n % len(listings)], at))
    return made


def honest_sellers(sellers: int, *, at: datetime, seed: int = 1) -> list[SimSeller]:
    """The seeded population's `sellers` honest sellers (ids S001 ...), not registered anywhere."""
    return [s for s in population(sellers, seed, start=at.date()) if not s.fraudulent]


def port_env(services: Sequence[str], port_base: int | None) -> dict[str, str]:
    """`SERVICE_PORT_<NAME>` for `start_services`: the i-th of SERVICE_NAMES on port_base + i (None: the defaults),
    so a benchmark can run beside another platform on the same machine."""
    if port_base is None:
        return {}
    return {f"SERVICE_PORT_{name.upper()}": str(port_base + SERVICE_NAMES.index(name)) for name in services}
