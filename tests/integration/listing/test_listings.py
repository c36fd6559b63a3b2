"""Listings over HTTP: rules L1-L9, policy violations, suppression on update, pause and resume."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.clock import tick
from shared.events import topics
from shared.runtime import ServiceRuntime
from tests.integration.listing.helpers import (
    ADJUSTED,
    gtin,
    listing_body,
    new_listing,
    new_seller,
    of_type,
    published,
    registration,
)
from tests.support.factories import T0
from tests.support.kafka import eventually, publish_events
from tests.support.platform import client

pytestmark = pytest.mark.integration

CREATED = "sellerflow.listing.created.v1"
UPDATED = "sellerflow.listing.updated.v1"
STATUS_CHANGED = "sellerflow.listing.status_changed.v1"
VIOLATION = "sellerflow.policy.violation.v1"


async def test_a_listing_that_breaks_rules_is_rejected_naming_each_and_l3_l4_l7_are_violations(
    listing: ServiceRuntime,
) -> None:
    seller_id, http = await new_seller(listing)
    body = listing_body(
        title="BEST SELLER COFFEE MUG",  # L1 all capitals, L2 a promotional claim
        description="Our top seller. Write to kiln@example.com. Customers love it.",  # L3, L4, L7
        bullet_points=["Only $9.99 today", "<b>Bold</b> glaze"],  # L5, L6
        product_id="4006381333932",  # L9: wrong check digit
    )
    async with http:
        response = await http.post(f"/v1/sellers/{seller_id}/listings", json=body)
        stored = (await http.get(f"/v1/sellers/{seller_id}/listings")).json()

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["rules"] == ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "L9"]
    assert {"rule": "L4", "field": "description", "message": "contact details or link: 'kiln@example.com'"} \
        in detail["breaches"]
    assert stored == []
    violations = of_type(await published(listing, topics.LISTING_EVENTS, seller_id=seller_id), VIOLATION)
    assert sorted((v.category, v.severity, v.rules) for v in violations) == [
        ("listing", "medium", ["L3", "L4"]), ("review", "high", ["L7"])]
    assert sorted(detail["violation_ids"]) == sorted(v.violation_id for v in violations)


async def test_a_title_of_200_characters_is_listed_and_one_of_201_is_rejected(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        ok = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body(title="Mug " + "a" * 196))
        long = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body(title="Mug " + "a" * 197))

    assert ok.status_code == 201 and ok.json()["status"] == "active"
    assert long.status_code == 422 and long.json()["detail"]["rules"] == ["L1"]


async def test_a_second_detail_page_is_a_duplicate_and_a_sku_or_a_listing_id_names_one_listing(
    listing: ServiceRuntime,
) -> None:
    seller_id, http = await new_seller(listing)
    product = gtin()
    async with http:
        first = await new_listing(http, seller_id, product_id=product, sku="MUG-1")
        twice = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body(product_id=product))
        used = await http.post(f"/v1/sellers/{seller_id}/listings",
                               json=listing_body(product_id=product, condition="used_good"))
        same_sku = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body(sku="MUG-1"))
        chosen = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body(listing_id=f"{seller_id}-L1"))
        same_id = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body(listing_id=f"{seller_id}-L1"))

    assert first["status"] == "active"
    assert chosen.status_code == 201 and chosen.json()["listing_id"] == f"{seller_id}-L1"
    assert same_id.status_code == 409
    assert twice.status_code == 422 and twice.json()["detail"]["rules"] == ["L8"]
    assert used.status_code == 201
    assert same_sku.status_code == 409


async def test_an_update_that_breaks_a_rule_suppresses_the_listing_until_it_is_fixed(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        created = await new_listing(http, seller_id)
        url = f"/v1/listings/{created['listing_id']}"
        broken = await http.patch(url, json={"description": "Call 555-123-4567 now", "at": created["updated_at"]})
        fixed = await http.patch(url, json={"description": "A glazed mug.", "price": "14.00",
                                            "at": created["updated_at"]})

    assert broken.status_code == 200
    assert broken.json()["status"] == "suppressed"
    assert broken.json()["reasons"] == ["L4 description: contact details or link: 'Call 555-123-4567'"]
    assert fixed.json()["status"] == "active" and fixed.json()["price"] == "14.00"
    events = await published(listing, topics.LISTING_EVENTS, seller_id=seller_id)
    assert [e.type for e in events] == [CREATED, VIOLATION, STATUS_CHANGED, UPDATED, STATUS_CHANGED]
    assert [(c.old_status, c.new_status) for c in of_type(events, STATUS_CHANGED)] == [
        ("active", "suppressed"), ("suppressed", "active")]
    assert of_type(events, UPDATED)[0].price.amount == 14


async def test_quantity_zero_makes_a_listing_inactive_and_a_negative_quantity_is_refused(
    listing: ServiceRuntime,
) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        created = await new_listing(http, seller_id, quantity=4)
        url, at = f"/v1/listings/{created['listing_id']}", created["updated_at"]
        empty = await http.patch(url, json={"quantity": 0, "at": at})
        negative = await http.patch(url, json={"quantity": -1, "at": at})
        restocked = await http.patch(url, json={"quantity": 7, "at": at})

    assert (empty.json()["status"], empty.json()["reasons"]) == ("inactive", ["no units for sale"])
    assert negative.status_code == 422 and negative.json()["detail"]["rules"] == ["L9"]
    assert (restocked.json()["status"], restocked.json()["quantity"]) == ("active", 7)
    adjusted = of_type(await published(listing, topics.LISTING_EVENTS, seller_id=seller_id), ADJUSTED)
    assert [(a.delta, a.available, a.reason) for a in adjusted] == [(-4, 0, "seller_update"), (7, 7, "seller_update")]


async def test_a_paused_listing_is_inactive_until_resumed(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        created = await new_listing(http, seller_id)
        url, at = f"/v1/listings/{created['listing_id']}", {"at": created["updated_at"]}
        paused = await http.post(f"{url}/pause", json=at)
        again = await http.post(f"{url}/pause", json=at)
        resumed = await http.post(f"{url}/resume", json=at)

    assert (paused.json()["status"], paused.json()["paused"]) == ("inactive", True)
    assert again.status_code == 200
    assert (resumed.json()["status"], resumed.json()["paused"]) == ("active", False)
    changes = of_type(await published(listing, topics.LISTING_EVENTS, seller_id=seller_id), STATUS_CHANGED)
    assert [(c.new_status, c.reasons) for c in changes] == [
        ("inactive", ["paused by the seller"]), ("active", ["resumed by the seller"])]


async def test_only_a_verified_seller_may_list(listing: ServiceRuntime) -> None:
    async with client(listing) as operator:
        body = registration(legal_name="Somebody Else Ltd", business_type="company")
        pending = (await operator.post("/v1/sellers", json=body)).json()
        refused = await operator.post(f"/v1/sellers/{pending['seller_id']}/listings", json=listing_body())
        unknown = await operator.post("/v1/sellers/S-nobody/listings", json=listing_body())

    assert refused.status_code == 409 and "pending_review" in refused.json()["detail"]
    assert unknown.status_code == 404


async def test_a_command_without_a_time_takes_the_business_clock(listing: ServiceRuntime) -> None:
    seller_id, http = await new_seller(listing)
    now = T0 + timedelta(days=3)
    await publish_events(listing.settings, topics.CLOCK_EVENTS, [tick(now)])
    body = listing_body()
    del body["at"]
    async with http:

        async def created() -> bool:
            response = await http.post(f"/v1/sellers/{seller_id}/listings", json=body)
            return response.status_code == 201 and datetime.fromisoformat(response.json()["created_at"]) == now

        await eventually(created, what="a listing created at the business clock's time")

