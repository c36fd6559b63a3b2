"""The bulk shipping confirmation (`POST /v1/shipment-confirmations`) on the running fulfillment service:
many shipments in one call, one result per confirmation, refusals writing nothing, and who may ask.

We play the order service: its `order.confirmed` and `order.cancelled` go to `order.events`. The service
starts once for the module; each test has its own seller and orders.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.auth import seller_token
from shared.events import Event, topics
from shared.events.fulfillment import ShipmentConfirmed
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.integration.fulfillment.support import order_cancelled, order_confirmed
from tests.support.factories import T0, unique
from tests.support.kafka import publish_events
from tests.support.platform import client, running

pytestmark = pytest.mark.integration

AT = (T0 + timedelta(hours=2)).isoformat()
WHOLE = [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}]


@pytest.fixture(scope="module")
async def fulfillment(module_settings: Settings) -> AsyncIterator[ServiceRuntime]:
    async with running(module_settings, ["fulfillment"]) as services:
        yield services["fulfillment"]


def http(runtime: ServiceRuntime, seller: str | None = None) -> httpx.AsyncClient:
    """A seller's client, or the operator's without a seller."""
    secret = runtime.settings.auth_secret.get_secret_value()
    return client(runtime, seller_token(secret, seller) if seller else None)


async def known(runtime: ServiceRuntime, *events: Event[Any]) -> None:
    """Send the order service's events and wait until the fulfillment service has applied them all."""
    await publish_events(runtime.settings, topics.ORDER_EVENTS, list(events))
    ids = [event.id for event in events]
    deadline = time.monotonic() + 20
    while await runtime.context.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1)", ids) < len(ids):
        assert time.monotonic() < deadline, "the fulfillment service applies the order events"
        await asyncio.sleep(0.05)


def dhl(n: int) -> str:
    """A well-formed DHL Express number: 9 digits and their remainder mod 7."""
    return f"{n:09d}{n % 7}"


def item(order_id: str, n: int, lines: Sequence[dict[str, Any]] = WHOLE, **more: Any) -> dict[str, Any]:
    return {"order_id": order_id, "carrier": "dhl", "tracking_number": dhl(n), "lines": list(lines), "at": AT,
            **more}


async def confirm(runtime: ServiceRuntime, seller: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async with http(runtime, seller) as seller_http:
        answer = await seller_http.post("/v1/shipment-confirmations", json={"confirmations": items})
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    assert [result["order_id"] for result in results] == [i["order_id"] for i in items], "one each, in order"
    return results


async def test_many_orders_are_confirmed_in_one_call_each_with_its_own_result(fulfillment: ServiceRuntime) -> None:
    seller = unique("S")
    confirmed = [order_confirmed(seller, T0) for _ in range(40)]
    await known(fulfillment, *confirmed)
    order_ids = [event.data.order_id for event in confirmed]
    items = [item(order_id, n) for n, order_id in enumerate(order_ids)]
    items[20] = item(order_ids[20], 20, [{"sku": "SKU-A", "quantity": 3}])  # one unit more than ordered
    items.insert(10, item(unique("O"), 99))  # no such order

    results = await confirm(fulfillment, seller, items)

    assert [r["status"] for r in results] == [201] * 10 + [404] + [201] * 10 + [422] + [201] * 19
    assert results[10]["shipment"] is None and results[10]["error"] == "no confirmed order of this seller with that id"
    assert results[21]["shipment"] is None and "3 shipped but 2 left" in results[21]["error"]
    shipped = [r for r in results if r["status"] == 201]
    assert all(r["error"] is None and r["shipment"]["lines"] == {"SKU-A": 2, "SKU-B": 1} for r in shipped)
    assert len({r["shipment"]["shipment_id"] for r in shipped}) == 39
    pool = fulfillment.context.pool
    stored = await pool.fetch("SELECT order_id, tracking_number FROM shipments WHERE seller_id = $1", seller)
    assert sorted(r["order_id"] for r in stored) == sorted(order_ids[:20] + order_ids[21:])
    refused = await pool.fetchrow("SELECT shipped, shipments FROM orders WHERE seller_id = $1 AND order_id = $2",
                                  seller, order_ids[20])
    assert (refused["shipped"], refused["shipments"]) == ({}, 0), "a refused confirmation writes nothing"
    events = await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1 AND event_type = $2", seller,
                                 ShipmentConfirmed.EVENT_TYPE)
    assert events == 39


async def test_shipments_of_one_order_in_one_call_see_each_other(fulfillment: ServiceRuntime) -> None:
    seller = unique("S")
    order, warehouse, cancelled = (order_confirmed(seller, T0), order_confirmed(seller, T0, channel="marketplace"),
                                   order_confirmed(seller, T0))
    await known(fulfillment, order, warehouse, cancelled, order_cancelled(cancelled, T0 + timedelta(hours=1)))
    order_id = order.data.order_id
    items = [
        item(order_id, 1, [{"sku": "SKU-A", "quantity": 1}], shipment_id="MY-1"),
        item(order_id, 2, [{"sku": "SKU-A", "quantity": 1}, {"listing_id": "L-B", "quantity": 1}]),
        item(order_id, 3, [{"sku": "SKU-A", "quantity": 1}]),  # nothing left: the two above shipped it all
        item(order_id, 4, [{"sku": "SKU-B", "quantity": 1}], shipment_id="MY-1"),  # a retry of the first
        item(warehouse.data.order_id, 5),
        item(cancelled.data.order_id, 6),
        item(cancelled.data.order_id, 7, shipment_id="MY-1"),
    ]

    results = await confirm(fulfillment, seller, items)

    assert [r["status"] for r in results] == [201, 201, 422, 200, 409, 409, 422]
    assert results[3]["shipment"] == results[0]["shipment"] and results[0]["shipment"]["shipment_id"] == "MY-1"
    assert results[1]["shipment"]["lines"] == {"SKU-A": 1, "SKU-B": 1}
    assert "0 left" in results[2]["error"]
    assert "marketplace" in results[4]["error"] and "cancelled" in results[5]["error"]
    assert "belongs to another order" in results[6]["error"]
    async with http(fulfillment, seller) as seller_http:
        listed = (await seller_http.get(f"/v1/orders/{order_id}/shipments")).json()
        assert [s["lines"] for s in listed] == [{"SKU-A": 1}, {"SKU-A": 1, "SKU-B": 1}]
        single = {name: value for name, value in items[0].items() if name != "order_id"}
        again = await seller_http.post(f"/v1/orders/{order_id}/shipments", json=single)
        assert again.status_code == 200 and again.json() == results[0]["shipment"], "the single route is a bulk of one"
    count = await fulfillment.context.pool.fetchval("SELECT count(*) FROM shipments WHERE seller_id = $1", seller)
    assert count == 2


async def test_the_bulk_route_checks_who_asks_and_what_is_sent(fulfillment: ServiceRuntime) -> None:
    seller = unique("S")
    order = order_confirmed(seller, T0)
    await known(fulfillment, order)
    body = {"confirmations": [item(order.data.order_id, 1)]}
    path = "/v1/shipment-confirmations"
    async with http(fulfillment, unique("S")) as stranger:
        assert (await stranger.post(path, params={"seller_id": seller}, json=body)).status_code == 403
    async with http(fulfillment, seller) as seller_http:
        assert (await seller_http.post(path, json={"confirmations": []})).status_code == 422
        assert (await seller_http.post(path, json={"confirmations": body["confirmations"] * 501})).status_code == 422
        unknown_field = {"confirmations": [{**body["confirmations"][0], "note": "x"}]}
        assert (await seller_http.post(path, json=unknown_field)).status_code == 422
        no_order = {"confirmations": [{k: v for k, v in body["confirmations"][0].items() if k != "order_id"}]}
        assert (await seller_http.post(path, json=no_order)).status_code == 422
        no_time = {"confirmations": [{k: v for k, v in body["confirmations"][0].items() if k != "at"}]}
        assert (await seller_http.post(path, json=no_time)).status_code == 409, "no clock tick yet: pass `at`"
        documented = (await seller_http.get("/openapi.json")).json()["paths"][path]["post"]
        assert "many shipments" in documented["summary"]
    async with http(fulfillment) as operator:
        assert (await operator.post(path, json=body)).status_code == 422, "the operator names the seller"
        answer = await operator.post(path, params={"seller_id": seller}, json=body)
    assert answer.status_code == 200 and [r["status"] for r in answer.json()["results"]] == [201]


async def test_a_seller_lists_its_shipments_from_a_time_on_and_of_one_channel(fulfillment: ServiceRuntime) -> None:
    seller = unique("S")
    confirmed = [order_confirmed(seller, T0) for _ in range(3)]
    await known(fulfillment, *confirmed)
    order_ids = [event.data.order_id for event in confirmed]
    later, last = (T0 + timedelta(hours=5)).isoformat(), (T0 + timedelta(hours=6)).isoformat()
    await confirm(fulfillment, seller, [item(order_ids[0], 1), item(order_ids[1], 2, at=later),
                                        item(order_ids[2], 3, at=last)])
    async with http(fulfillment, seller) as seller_http:
        since = await seller_http.get("/v1/shipments", params={"shipped_since": later})
        merchant = await seller_http.get("/v1/shipments", params={"channel": "merchant", "limit": 2})
        marketplace = await seller_http.get("/v1/shipments", params={"channel": "marketplace"})
    async with http(fulfillment, unique("S")) as other:
        foreign = await other.get("/v1/shipments", params={"seller_id": seller})
    assert [s["order_id"] for s in since.json()] == order_ids[1:]
    assert since.json()[0]["deliver_by"] == confirmed[1].data.deliver_by.isoformat().replace("+00:00", "Z")
    assert [s["order_id"] for s in merchant.json()] == order_ids[:2]  # in the order they left, up to the limit
    assert marketplace.json() == []
    assert foreign.status_code == 403
