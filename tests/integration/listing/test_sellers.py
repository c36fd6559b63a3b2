"""Seller onboarding, account status, appeals and access, against the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from shared.events import topics
from shared.events.common import EnforcementAction
from shared.runtime import ServiceRuntime, create_http_app
from tests.integration.listing.helpers import (
    IBAN,
    enforcement,
    listing_body,
    new_listing,
    new_seller,
    of_type,
    published,
    registration,
    tax_id,
    token_of,
)
from tests.support.kafka import eventually, publish_events
from tests.support.platform import client

pytestmark = pytest.mark.integration

REGISTERED = "sellerflow.seller.registered.v1"
VERIFIED = "sellerflow.seller.verified.v1"
REJECTED = "sellerflow.seller.rejected.v1"
STATUS_CHANGED = "sellerflow.seller.status_changed.v1"
LISTING_STATUS_CHANGED = "sellerflow.listing.status_changed.v1"
PLAN = {"root_cause": "Carrier missed pickups", "actions": ["Second carrier contracted"],
        "prevention": "Daily pickup check", "violation_ids": ["V-1"], "at": "2026-03-03T09:00:00Z"}


async def register(runtime: ServiceRuntime, body: dict[str, Any]) -> dict[str, Any]:
    async with client(runtime) as http:
        response = await http.post("/v1/sellers", json=body)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


# --- registration ----------------------------------------------------------------------------------


async def test_a_valid_registration_is_verified_and_announced_with_masked_secrets(listing: ServiceRuntime) -> None:
    seller = await register(listing, registration())

    assert seller["status"] == "active" and seller["reasons"] == []
    assert seller["bank_account"] == "*" * 18 + IBAN[-4:]
    events = await published(listing, topics.SELLER_EVENTS, seller_id=seller["seller_id"])
    assert [event.type for event in events] == [REGISTERED, VERIFIED, STATUS_CHANGED]
    assert IBAN not in str(events[0].data) and events[0].data.bank_account.endswith("3000")
    assert of_type(events, VERIFIED)[0].automatic is True
    [changed] = of_type(events, STATUS_CHANGED)
    assert (changed.old_status, changed.new_status, changed.cause) == (None, "active", "verification")


async def test_a_registration_that_fails_several_checks_is_rejected_with_every_reason(
    listing: ServiceRuntime,
) -> None:
    body = registration(
        contact_email="not-an-email",
        bank_account={"iban": "DE89370400440532013001"},
        identity_document={"type": "passport", "number": "C01X00T47", "holder_name": "Charles Babbage",
                           "expiry_date": "2026-03-01"},  # the day before the registration
    )

    seller = await register(listing, body)

    codes = {reason["code"] for reason in seller["reasons"]}
    assert seller["status"] == "rejected"
    assert codes == {"email_invalid", "iban_check_digits_invalid", "document_expired", "holder_name_mismatch"}
    events = await published(listing, topics.SELLER_EVENTS, seller_id=seller["seller_id"])
    [rejected] = of_type(events, REJECTED)
    assert {reason.split(":")[0] for reason in rejected.reasons} == codes
    assert of_type(events, VERIFIED) == []


async def test_one_tax_id_holds_one_account_even_when_two_registrations_race(listing: ServiceRuntime) -> None:
    shared_tax_id = tax_id()
    first, second = await asyncio.gather(
        register(listing, registration(tax_id=shared_tax_id)),
        register(listing, registration(tax_id=shared_tax_id)),
    )
    third = await register(listing, registration(tax_id=f" {shared_tax_id[:2].lower()} {shared_tax_id[2:]} "))

    assert sorted([first["status"], second["status"]]) == ["active", "rejected"]
    assert third["status"] == "rejected"
    assert [r["code"] for r in third["reasons"]] == ["tax_id_already_registered"]


def _anonymous(runtime: ServiceRuntime, token: str | None = None) -> httpx.AsyncClient:
    app = create_http_app(runtime, manage_lifecycle=False)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service", headers=headers)


async def test_an_anonymous_registrant_gets_the_same_answer_whether_or_not_its_tax_id_is_registered(
    listing: ServiceRuntime,
) -> None:
    taken = tax_id()
    await register(listing, registration(tax_id=taken))  # someone else's account
    async with _anonymous(listing) as anyone:
        fresh = await anyone.post("/v1/sellers", json=registration())
        duplicate = await anyone.post("/v1/sellers", json=registration(tax_id=taken))

    assert fresh.status_code == duplicate.status_code == 202
    answers = [fresh.json(), duplicate.json()]
    assert [sorted(a) for a in answers] == [["message", "receipt", "seller_id", "status"]] * 2
    assert {(a["status"], a["message"]) for a in answers} == {(answers[0]["status"], answers[0]["message"])}


async def test_a_registrant_reads_its_own_outcome_with_its_receipt_and_only_a_verified_seller_gets_a_token(
    listing: ServiceRuntime,
) -> None:
    taken = tax_id()
    await register(listing, registration(tax_id=taken))
    async with _anonymous(listing) as anyone:
        fresh = (await anyone.post("/v1/sellers", json=registration())).json()
        duplicate = (await anyone.post("/v1/sellers", json=registration(tax_id=taken))).json()
    async with _anonymous(listing, fresh["receipt"]) as registrant:
        verified = await registrant.get(f"/v1/sellers/{fresh['seller_id']}/registration")
        others = await registrant.get(f"/v1/sellers/{duplicate['seller_id']}/registration")
        account = await registrant.get(f"/v1/sellers/{fresh['seller_id']}")  # a receipt is not a seller token
    async with _anonymous(listing, duplicate["receipt"]) as registrant:
        rejected = (await registrant.get(f"/v1/sellers/{duplicate['seller_id']}/registration")).json()

    assert verified.status_code == 200 and verified.json()["status"] == "active"
    async with _anonymous(listing, verified.json()["token"]) as seller:
        assert (await seller.get(f"/v1/sellers/{fresh['seller_id']}")).status_code == 200
    assert others.status_code == 403 and account.status_code == 403
    assert rejected["status"] == "rejected" and rejected["token"] is None
    assert [r["code"] for r in rejected["reasons"]] == ["tax_id_already_registered"]


async def test_a_company_whose_representative_is_named_otherwise_waits_for_an_operator(
    listing: ServiceRuntime,
) -> None:
    seller = await register(listing, registration(legal_name="Kiln & Co Ltd", business_type="company"))
    seller_id = seller["seller_id"]
    assert seller["status"] == "pending_review"
    assert [r["code"] for r in seller["reasons"]] == ["holder_name_mismatch"]

    assert seller["token"] is None  # not verified yet
    async with client(listing, token_of(listing, seller_id)) as own:
        refused = await own.post(f"/v1/sellers/{seller_id}/decision",
                                 json={"approved": True, "at": seller["updated_at"]})
        early = await own.post(f"/v1/sellers/{seller_id}/listings", json={})
    async with client(listing) as operator:
        queue = await operator.get("/v1/sellers", params={"status": "pending_review"})
        decided = await operator.post(f"/v1/sellers/{seller_id}/decision",
                                      json={"approved": True, "operator_id": "op-7", "at": seller["updated_at"]})
        again = await operator.post(f"/v1/sellers/{seller_id}/decision",
                                    json={"approved": False, "at": seller["updated_at"]})

    assert refused.status_code == 403
    assert early.status_code == 422  # an empty body: shape first
    assert seller_id in [s["seller_id"] for s in queue.json()]
    assert decided.status_code == 200 and decided.json()["status"] == "active"
    assert again.status_code == 409
    events = await published(listing, topics.SELLER_EVENTS, seller_id=seller_id)
    assert [e.type for e in events] == [REGISTERED, STATUS_CHANGED, VERIFIED, STATUS_CHANGED]
    assert of_type(events, VERIFIED)[0].operator_id == "op-7"
    assert [(c.old_status, c.new_status) for c in of_type(events, STATUS_CHANGED)] == [
        (None, "pending_review"), ("pending_review", "active")]


async def test_an_operator_may_reject_a_registration_pending_review(listing: ServiceRuntime) -> None:
    seller = await register(listing, registration(legal_name="Other Name GmbH", business_type="company"))

    async with client(listing) as operator:
        decided = await operator.post(f"/v1/sellers/{seller['seller_id']}/decision",
                                      json={"approved": False, "reasons": ["representative not authorised"],
                                            "at": seller["updated_at"]})

    assert decided.json()["status"] == "rejected"
    events = await published(listing, topics.SELLER_EVENTS, seller_id=seller["seller_id"])
    assert of_type(events, REJECTED)[0].reasons == ["representative not authorised"]


# --- access ----------------------------------------------------------------------------------------


async def test_a_seller_token_reaches_only_its_own_seller_listings_and_appeals(listing: ServiceRuntime) -> None:
    owner_id, owner = await new_seller(listing)
    other_id, other = await new_seller(listing)
    async with owner, other:
        mine = await new_listing(owner, owner_id)
        calls = [
            other.get(f"/v1/sellers/{owner_id}"),
            other.get(f"/v1/sellers/{owner_id}/listings"),
            other.post(f"/v1/sellers/{owner_id}/listings", json=listing_body()),
            other.get(f"/v1/listings/{mine['listing_id']}"),
            other.patch(f"/v1/listings/{mine['listing_id']}", json={"quantity": 0}),
            other.post(f"/v1/listings/{mine['listing_id']}/pause", json={"at": mine["updated_at"]}),
            other.get(f"/v1/sellers/{owner_id}/appeals"),
            other.post(f"/v1/sellers/{owner_id}/appeals", json=PLAN),
            other.get("/v1/sellers"),  # operator only
        ]
        statuses = [(await call).status_code for call in calls]
        own = await owner.get(f"/v1/listings/{mine['listing_id']}")
    async with client(listing) as anonymous:
        anonymous.headers.pop("Authorization")
        unauthenticated = await anonymous.get(f"/v1/sellers/{owner_id}")
        forged = await anonymous.get(f"/v1/sellers/{owner_id}", headers={"Authorization": "Bearer abc.def"})

    assert statuses == [403] * 9
    assert own.status_code == 200 and own.json()["quantity"] == 10
    assert (unauthenticated.status_code, forged.status_code) == (401, 401)
    assert token_of(listing, owner_id) != token_of(listing, other_id)


# --- enforcement and appeals -----------------------------------------------------------------------


async def wait_for_status(runtime: ServiceRuntime, seller_id: str, status: str) -> None:
    async with client(runtime) as http:

        async def reached() -> bool:
            return bool((await http.get(f"/v1/sellers/{seller_id}")).json()["status"] == status)

        await eventually(reached, what=f"{seller_id} {status}")


async def statuses(http: Any, seller_id: str) -> dict[str, tuple[str, bool]]:
    rows = (await http.get(f"/v1/sellers/{seller_id}/listings")).json()
    return {row["sku"]: (row["status"], row["paused"]) for row in rows}


async def test_suspension_deactivates_every_listing_and_reinstatement_restores_exactly_those(
    listing: ServiceRuntime,
) -> None:
    settings = listing.settings
    seller_id, http = await new_seller(listing)
    async with http:
        for sku, changes in {"mfn": {}, "afn": {"fulfillment_channel": "marketplace"}, "paused": {},
                             "empty": {"quantity": 0}}.items():
            await new_listing(http, seller_id, sku=sku, **changes)
        paused = next(r for r in (await http.get(f"/v1/sellers/{seller_id}/listings")).json() if r["sku"] == "paused")
        await http.post(f"/v1/listings/{paused['listing_id']}/pause", json={"at": paused["updated_at"]})
        before = await statuses(http, seller_id)

        await publish_events(settings, topics.METRICS_EVENTS, [enforcement(seller_id, EnforcementAction.SUSPEND)])
        await wait_for_status(listing, seller_id, "suspended")
        suspended = await statuses(http, seller_id)
        create = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body())
        resume = await http.post(f"/v1/listings/{paused['listing_id']}/resume", json={"at": paused["updated_at"]})

        await publish_events(settings, topics.METRICS_EVENTS,
                             [enforcement(seller_id, EnforcementAction.REINSTATE, hours=2)])
        await wait_for_status(listing, seller_id, "reinstated")
        after = await statuses(http, seller_id)

    assert before == {"mfn": ("active", False), "afn": ("active", False), "paused": ("inactive", True),
                      "empty": ("inactive", False)}
    assert suspended == {"mfn": ("inactive", False), "afn": ("inactive", False), "paused": ("inactive", True),
                         "empty": ("inactive", False)}
    assert create.status_code == 409
    assert resume.status_code == 409
    assert after == before
    changes = of_type(await published(listing, topics.LISTING_EVENTS, seller_id=seller_id), LISTING_STATUS_CHANGED)
    by_enforcement = [(c.sku, c.old_status, c.new_status) for c in changes if c.sku in ("mfn", "afn")]
    assert sorted(by_enforcement) == [("afn", "active", "inactive"), ("afn", "inactive", "active"),
                                      ("mfn", "active", "inactive"), ("mfn", "inactive", "active")]
    seller_events = await published(listing, topics.SELLER_EVENTS, seller_id=seller_id)
    assert [(c.old_status, c.new_status, c.cause) for c in of_type(seller_events, STATUS_CHANGED)][1:] == [
        ("active", "suspended", "enforcement"), ("suspended", "reinstated", "enforcement")]


async def test_a_restriction_stops_merchant_listings_and_an_accepted_appeal_reinstates_them(
    listing: ServiceRuntime,
) -> None:
    seller_id, http = await new_seller(listing)
    async with http, client(listing) as operator:
        await new_listing(http, seller_id, sku="mfn")
        await new_listing(http, seller_id, sku="afn", fulfillment_channel="marketplace")
        decision = enforcement(seller_id, EnforcementAction.RESTRICT)
        await publish_events(listing.settings, topics.METRICS_EVENTS, [decision])
        await wait_for_status(listing, seller_id, "restricted")
        restricted = await statuses(http, seller_id)
        merchant = await http.post(f"/v1/sellers/{seller_id}/listings", json=listing_body())
        marketplace = await http.post(f"/v1/sellers/{seller_id}/listings",
                                      json=listing_body(fulfillment_channel="marketplace"))
        appeal = await http.post(f"/v1/sellers/{seller_id}/appeals", json=PLAN)
        second = await http.post(f"/v1/sellers/{seller_id}/appeals", json=PLAN)
        appeal_id = appeal.json()["appeal_id"]
        by_seller = await http.post(f"/v1/appeals/{appeal_id}/decision", json={"accepted": True})
        decided = await operator.post(f"/v1/appeals/{appeal_id}/decision",
                                      json={"accepted": True, "note": "plan accepted", "at": "2026-03-04T09:00:00Z"})
        account = (await http.get(f"/v1/sellers/{seller_id}")).json()
        after = await statuses(http, seller_id)

    assert restricted == {"mfn": ("inactive", False), "afn": ("active", False)}
    assert merchant.status_code == 409 and marketplace.status_code == 201
    assert appeal.status_code == 201 and appeal.json()["enforcement_event_id"] == str(decision.id)
    assert second.status_code == 409
    assert by_seller.status_code == 403
    assert decided.status_code == 200 and decided.json()["resolved_violation_ids"] == ["V-1"]
    assert account["status"] == "reinstated"
    assert after["mfn"] == ("active", False) and after["afn"] == ("active", False)
    events = await published(listing, topics.SELLER_EVENTS, seller_id=seller_id)
    [appealed] = of_type(events, "sellerflow.seller.appealed.v1")
    [verdict] = of_type(events, "sellerflow.seller.appeal_decided.v1")
    assert appealed.appeal_id == verdict.appeal_id == appeal_id and verdict.accepted
    assert of_type(events, STATUS_CHANGED)[-1].cause == "appeal"


async def test_a_redundant_enforcement_decision_is_recorded_and_ignored_and_the_next_applies(
    listing: ServiceRuntime,
) -> None:
    seller_id, http = await new_seller(listing)
    async with http:
        await publish_events(listing.settings, topics.METRICS_EVENTS, [
            enforcement(seller_id, EnforcementAction.REINSTATE),  # the account is active: nothing to reinstate
            enforcement(seller_id, EnforcementAction.WARN, hours=2),
        ])
        await wait_for_status(listing, seller_id, "warned")
        record = (await http.get(f"/v1/sellers/{seller_id}/enforcements")).json()

    assert [(r["action"], r["outcome"]) for r in record] == [("reinstate", "ignored"), ("warn", "applied")]
    assert "active cannot take reinstate" in record[0]["note"]
