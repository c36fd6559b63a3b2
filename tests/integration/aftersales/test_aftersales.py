"""The aftersales service against the real broker and PostgreSQL, time driven by clock ticks.

The service starts once for the module; every test has its own seller and orders. The order and
fulfillment services, buyers, the A-to-z team and the clock are played by publishing their events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.events import ingress as i
from shared.events.common import ChargebackOutcome, ChargebackReason, ClaimReason, Money, ReturnReason
from shared.messaging import dead_letters as dl
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.integration.aftersales.world import DAY, HOUR, World, dead_letters_of, ok, unique
from tests.support.factories import free_time
from tests.support.platform import running

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(scope="module")
async def aftersales(module_settings: Settings) -> AsyncIterator[ServiceRuntime]:
    async with running(free_time(module_settings), ["aftersales"]) as runtimes:
        yield runtimes["aftersales"]


@pytest.fixture
async def world(aftersales: ServiceRuntime) -> AsyncIterator[World]:
    world = World(aftersales)
    await world.register()
    yield world
    await world.close()


# --- messages -------------------------------------------------------------------------------------


async def test_a_message_answered_in_3_hours_is_on_time_and_one_answered_in_30_hours_is_late(world: World) -> None:
    order_id = await world.order(at=T0)
    quick, slow = await world.message(order_id, T0 + HOUR), await world.message(order_id, T0 + 2 * HOUR)

    fast = ok(await world.http.post(f"/v1/messages/{quick}/reply",
                                    json={"text": "It ships today.", "at": (T0 + 4 * HOUR).isoformat()}))
    late = ok(await world.http.post(f"/v1/messages/{slow}/reply",
                                    json={"text": "Sorry, it shipped.", "at": (T0 + 32 * HOUR).isoformat()}))

    assert (fast["delivered"], fast["minutes_to_reply"], fast["on_time"]) == (True, 180, True)
    assert (late["delivered"], late["minutes_to_reply"], late["on_time"]) == (True, 1800, False)
    events = await world.published("sellerflow.message.received.v1", "sellerflow.message.received.v1",
                                   "sellerflow.message.replied.v1", "sellerflow.message.replied.v1")
    received = {e.data.message_id: e.data for e in events if e.type == "sellerflow.message.received.v1"}
    assert received[quick].due_by == T0 + 25 * HOUR  # 24 hours, weekends included
    replied = {e.data.message_id: e.data.minutes_to_reply for e in events if e.type == "sellerflow.message.replied.v1"}
    assert replied == {quick: 180, slow: 1800}
    assert ok(await world.http.get("/v1/messages", params={"unanswered": "true"})) == []
    again = await world.http.post(f"/v1/messages/{quick}/reply", json={"text": "Hello again.",
                                                                        "at": (T0 + 5 * HOUR).isoformat()})
    assert again.status_code == 409


async def test_an_unanswered_message_past_due_is_overdue_in_the_inbox_and_the_work_list(world: World) -> None:
    order_id = await world.order(at=T0)
    first = await world.message(order_id, T0 + HOUR)
    second = await world.message(order_id, T0 + 3 * HOUR)
    inbox = ok(await world.http.get("/v1/messages", params={"unanswered": "true"}))
    assert [m["message_id"] for m in inbox] == [first, second]  # by due-by
    assert not any(m["overdue"] for m in inbox)

    await world.tick(T0 + 26 * HOUR)  # past the first one's due-by only

    inbox = ok(await world.http.get("/v1/messages", params={"unanswered": "true"}))
    assert [(m["message_id"], m["overdue"]) for m in inbox] == [(first, True), (second, False)]
    work = ok(await world.http.get("/v1/work"))
    assert [m["message_id"] for m in work["messages_due"]] == [first, second]


async def test_a_message_marked_no_reply_needed_leaves_the_inbox_and_says_so(world: World) -> None:
    order_id = await world.order(at=T0)
    message_id = await world.message(order_id, T0 + HOUR, body="Thanks, all good!")

    ok(await world.http.post(f"/v1/messages/{message_id}/no-reply-needed", json={"at": (T0 + 2 * HOUR).isoformat()}))

    assert ok(await world.http.get("/v1/messages", params={"unanswered": "true"})) == []
    events = await world.published("sellerflow.message.received.v1", "sellerflow.message.received.v1")
    first, again = (e.data for e in events)
    assert (first.needs_reply, first.due_by) == (True, T0 + 25 * HOUR)
    assert (again.needs_reply, again.due_by, again.marked_no_reply_needed_at) == (False, None, T0 + 2 * HOUR)


async def test_a_message_sent_again_under_the_sellers_own_id_gets_the_first_answer_and_is_sent_once(
    world: World,
) -> None:
    order_id = await world.order(at=T0)
    question = await world.message(order_id, T0 + HOUR)
    reply = {"text": "It ships today.", "at": (T0 + 3 * HOUR).isoformat(), "message_id": "my-reply-1"}
    first = ok(await world.http.post(f"/v1/messages/{question}/reply", json=reply))
    later = {**reply, "at": (T0 + 9 * HOUR).isoformat()}
    again = ok(await world.http.post(f"/v1/messages/{question}/reply", json=later))
    assert first == again == {"message_id": "my-reply-1", "delivered": True, "rules": [], "minutes_to_reply": 120,
                              "on_time": True}
    spam = {"text": "Leave us a 5-star review and we refund 10%!", "at": (T0 + DAY).isoformat(), "message_id": "n-1"}
    blocked = [await world.http.post(f"/v1/orders/{order_id}/messages", json=spam) for _ in range(2)]
    assert [b.status_code for b in blocked] == [422, 422]
    assert blocked[0].json() == blocked[1].json() and blocked[0].json()["message_id"] == "n-1"
    staged = await world.runtime.context.pool.fetch(
        "SELECT event_type FROM outbox WHERE key = $1 AND event_type LIKE 'sellerflow.message.%'", world.seller)
    assert sorted(row["event_type"] for row in staged) == [  # each sent once
        "sellerflow.message.blocked.v1", "sellerflow.message.received.v1", "sellerflow.message.replied.v1"]
    reused = await world.http.post(f"/v1/orders/{order_id}/messages", json={**spam, "message_id": "my-reply-1"})
    assert reused.status_code == 422 and "used for another message" in reused.text


async def test_a_blocked_seller_message_is_not_delivered_and_raises_policy_violations(world: World) -> None:
    order_id = await world.order(at=T0)
    message_id = await world.message(order_id, T0 + HOUR)

    blocked = await world.http.post(f"/v1/messages/{message_id}/reply", json={
        "text": "Mail me at shop@example.com and we refund you if you leave a 5-star review.",
        "at": (T0 + 2 * HOUR).isoformat()})

    assert blocked.status_code == 422, blocked.text
    assert blocked.json()["delivered"] is False
    assert blocked.json()["rules"] == ["M2", "M4", "M5"]
    events = await world.published("sellerflow.message.blocked.v1", "sellerflow.policy.violation.v1",
                                   "sellerflow.policy.violation.v1")
    [block] = [e.data for e in events if e.type == "sellerflow.message.blocked.v1"]
    assert (block.in_reply_to, block.order_id, block.rules) == (message_id, order_id, ["M2", "M4", "M5"])
    violations = {e.data.category: e.data for e in events if e.type == "sellerflow.policy.violation.v1"}
    assert (violations["messaging"].severity, violations["messaging"].rules) == ("low", ["M2"])
    assert (violations["review"].severity, violations["review"].rules) == ("high", ["M4", "M5"])
    assert all(v.subject_id == block.message_id for v in violations.values())
    inbox = ok(await world.http.get("/v1/messages", params={"unanswered": "true"}))
    assert [m["message_id"] for m in inbox] == [message_id]  # still waiting for a reply


async def test_a_second_review_request_for_an_order_is_blocked(world: World) -> None:
    order_id = await world.order(at=T0)
    ask = {"text": "Would you leave a review of the product?", "at": (T0 + DAY).isoformat()}
    assert ok(await world.http.post(f"/v1/orders/{order_id}/messages", json=ask))["delivered"] is True
    second = await world.http.post(f"/v1/orders/{order_id}/messages", json=ask)
    assert (second.status_code, second.json()["rules"]) == (422, ["M8"])


# --- returns and refunds --------------------------------------------------------------------------


async def test_a_return_authorized_late_is_recorded_and_emitted_as_late(world: World) -> None:
    order_id = await world.order(at=T0, delivered_at=T0 + 4 * DAY)
    requested_at = T0 + 5 * DAY
    return_id = await _return(world, order_id, requested_at)
    await world.tick(requested_at + 49 * HOUR)
    work = ok(await world.http.get("/v1/work"))
    assert [(r["return_id"], r["overdue"]) for r in work["returns_awaiting"]] == [(return_id, True)]

    answer = ok(await world.http.post(f"/v1/returns/{return_id}/authorize",
                                      json={"at": (requested_at + 50 * HOUR).isoformat()}))

    assert (answer["status"], answer["answered_late"]) == ("authorized", True)
    events = await world.published("sellerflow.return.requested.v1", "sellerflow.return.authorized.v1")
    [authorized] = [e.data for e in events if e.type == "sellerflow.return.authorized.v1"]
    assert authorized.answer_by == requested_at + 48 * HOUR
    assert authorized.answered_at == requested_at + 50 * HOUR
    assert authorized.answered_late is True


async def test_a_refund_above_what_was_paid_for_the_order_is_refused(world: World) -> None:
    order_id = await world.order(at=T0, total="50.00")
    url = f"/v1/orders/{order_id}/refunds"
    at = (T0 + DAY).isoformat()

    first = ok(await world.http.post(url, json={"amount": "30.00", "reason": "damaged", "at": at}))
    refused = await world.http.post(url, json={"amount": "30.00", "reason": "damaged again", "at": at})
    rest = ok(await world.http.post(url, json={"amount": "20.00", "reason": "missing part", "at": at,
                                               "refund_id": "rf-rest-1"}))
    repeated = ok(await world.http.post(url, json={"amount": "20.00", "reason": "missing part", "at": at,
                                                   "refund_id": "rf-rest-1"}))

    assert first["refundable_left"] == "20.00"
    assert refused.status_code == 422
    assert "above the 50.00 USD paid" in refused.json()["detail"]
    assert (rest["refundable_left"], repeated["repeated"]) == ("0.00", True)
    events = await world.published("sellerflow.refund.issued.v1", "sellerflow.refund.issued.v1")
    refunds = [e.data for e in events if e.type == "sellerflow.refund.issued.v1"]
    assert [r.amount.amount for r in refunds] == [Decimal("30.00"), Decimal("20.00")]
    assert all(r.order_total.amount == Decimal("50.00") and r.initiated_by == "seller" for r in refunds)


async def test_a_received_return_is_refunded_in_full_by_default(world: World) -> None:
    order_id = await world.order(at=T0, total="25.00", delivered_at=T0 + 3 * DAY)
    return_id = await _return(world, order_id, T0 + 4 * DAY)
    at = T0 + 4 * DAY
    ok(await world.http.post(f"/v1/returns/{return_id}/authorize", json={"at": (at + HOUR).isoformat()}))
    received = ok(await world.http.post(f"/v1/returns/{return_id}/receive", json={"at": (at + 3 * DAY).isoformat()}))
    assert received["refund_due_by"].startswith((at + 5 * DAY).date().isoformat())

    refund = ok(await world.http.post(f"/v1/returns/{return_id}/refund", json={"at": (at + 4 * DAY).isoformat()}))

    assert (refund["amount"], refund["refundable_left"]) == ("25.00", "0.00")
    [row] = ok(await world.http.get("/v1/returns", params={"status": "refunded"}))
    assert row["return_id"] == return_id
    events = await world.published("sellerflow.return.received.v1", "sellerflow.refund.issued.v1")
    [issued] = [e.data for e in events if e.type == "sellerflow.refund.issued.v1"]
    assert (issued.return_id, issued.return_answered_late, issued.initiated_by) == (return_id, False, "seller")
    again = await world.http.post(f"/v1/returns/{return_id}/refund", json={"at": (at + 5 * DAY).isoformat()})
    assert again.status_code == 409  # refunded already


async def test_a_rejected_return_later_refunded_by_a_claim_is_marked_as_such(world: World) -> None:
    order_id = await world.order(at=T0, total="30.00", delivered_at=T0 + 3 * DAY)
    return_id = await _return(world, order_id, T0 + 4 * DAY)
    no_reason = await world.http.post(f"/v1/returns/{return_id}/reject", json={"reason": "",
                                                                              "at": (T0 + 5 * DAY).isoformat()})
    assert no_reason.status_code == 422
    ok(await world.http.post(f"/v1/returns/{return_id}/reject", json={"reason": "Item was used",
                                                                      "at": (T0 + 5 * DAY).isoformat()}))
    claim_id = await _claim(world, order_id, T0 + 8 * DAY, ClaimReason.RETURN_NOT_REFUNDED, "30.00")
    await world.buyer(i.AtozClaimDecided(claim_id=claim_id, order_id=order_id, outcome="granted_seller_funded",
                                         decided_at=T0 + 9 * DAY, refund=Money(amount=Decimal("30.00"),
                                                                               currency="USD")),
                      claim_id, T0 + 9 * DAY)

    events = await world.published("sellerflow.return.rejected.v1", "sellerflow.claim.decided.v1",
                                   "sellerflow.refund.issued.v1")
    [refund] = [e.data for e in events if e.type == "sellerflow.refund.issued.v1"]
    assert (refund.initiated_by, refund.return_id, refund.rejected_return_refunded_by_claim) == (
        "claim", return_id, True)
    assert refund.return_requested_at == T0 + 4 * DAY


async def test_a_return_requested_after_30_days_is_dead_lettered_with_the_reason(world: World) -> None:
    order_id = await world.order(at=T0, delivered_at=T0 + 3 * DAY)
    late = T0 + 34 * DAY
    event = await world.buyer(i.BuyerReturnRequested(return_id=unique("R"), order_id=order_id, buyer_id="B-1",
                                                     requested_at=late, reason=ReturnReason.OTHER), "r", late)
    [(value, headers)] = await dead_letters_of(world.settings, world.seller, expect=1)
    assert value == event.to_bytes()
    assert "31 days after delivery: the window is 30 days" in headers[dl.H_ERROR_MESSAGE]


# --- claims ---------------------------------------------------------------------------------------


async def test_a_claim_granted_then_reversed_by_appeal_no_longer_counts(world: World) -> None:
    order_id = await world.order(at=T0, total="40.00", delivered_at=T0 + 4 * DAY)
    filed_at = T0 + 10 * DAY
    claim_id = await _claim(world, order_id, filed_at, ClaimReason.NOT_AS_DESCRIBED, "40.00")
    denied = await world.http.post(f"/v1/claims/{claim_id}/decision", json={"outcome": "granted"})
    assert denied.status_code == 403

    grant = ok(await world.operator.post(f"/v1/claims/{claim_id}/decision",
                                         json={"outcome": "granted", "at": (filed_at + DAY).isoformat()}))
    appeal = ok(await world.operator.post(f"/v1/claims/{claim_id}/decision", json={
        "outcome": "denied", "appeal": True, "reason": "Proof of delivery", "at": (filed_at + 5 * DAY).isoformat()}))

    assert (grant["outcome"], grant["counts_against_seller"]) == ("granted_seller_funded", True)
    assert (appeal["status"], appeal["outcome"], appeal["counts_against_seller"]) == ("reversed", "denied", False)
    events = await world.published("sellerflow.claim.filed.v1", "sellerflow.claim.decided.v1",
                                   "sellerflow.refund.issued.v1", "sellerflow.claim.decided.v1")
    decisions = [e.data for e in events if e.type == "sellerflow.claim.decided.v1"]
    assert [(d.outcome, d.counts_against_seller, d.reverses_earlier_decision) for d in decisions] == [
        ("granted_seller_funded", True, False), ("denied", False, True)]
    [refund] = [e.data for e in events if e.type == "sellerflow.refund.issued.v1"]
    assert (refund.amount.amount, refund.initiated_by, refund.claim_id) == (Decimal("40.00"), "claim", claim_id)


async def test_a_delivery_claim_is_marketplace_funded_only_when_the_order_shipped_on_time_with_valid_tracking(
    world: World,
) -> None:
    order_id = await world.order(at=T0, shipped=True, on_time=True, tracking_valid=True)
    late_order = await world.order(at=T0, shipped=True, on_time=False, tracking_valid=True)
    claim_id = await _claim(world, order_id, T0 + 9 * DAY, ClaimReason.NOT_RECEIVED, "50.00")
    late_claim = await _claim(world, late_order, T0 + 9 * DAY, ClaimReason.NOT_RECEIVED, "50.00")
    await world.buyer(i.AtozClaimDecided(claim_id=late_claim, order_id=late_order, outcome="granted_seller_funded",
                                         decided_at=T0 + 10 * DAY), late_claim, T0 + 10 * DAY)
    await world.buyer(i.AtozClaimDecided(claim_id=claim_id, order_id=order_id, outcome="granted_seller_funded",
                                         decided_at=T0 + 10 * DAY), claim_id, T0 + 10 * DAY)

    events = await world.published("sellerflow.claim.decided.v1", "sellerflow.claim.decided.v1")
    decided = {e.data.claim_id: e.data for e in events if e.type == "sellerflow.claim.decided.v1"}
    assert (decided[claim_id].outcome, decided[claim_id].counts_against_seller) == ("granted_marketplace_funded",
                                                                                    False)
    assert (decided[late_claim].outcome, decided[late_claim].counts_against_seller) == ("granted_seller_funded",
                                                                                        True)


async def test_a_seller_refund_after_a_claim_was_filed_makes_the_claim_count(world: World) -> None:
    order_id = await world.order(at=T0, total="20.00")
    claim_id = await _claim(world, order_id, T0 + 8 * DAY, ClaimReason.NOT_AS_DESCRIBED, "20.00")

    ok(await world.http.post(f"/v1/orders/{order_id}/refunds", json={
        "amount": "20.00", "reason": "Settling the claim", "at": (T0 + 9 * DAY).isoformat()}))
    denied = ok(await world.operator.post(f"/v1/claims/{claim_id}/decision", json={
        "outcome": "denied", "at": (T0 + 10 * DAY).isoformat()}))

    assert denied["counts_against_seller"] is True  # refunded after filing (our reading of domain.md)
    events = await world.published("sellerflow.refund.issued.v1", "sellerflow.claim.decided.v1")
    [refund] = [e.data for e in events if e.type == "sellerflow.refund.issued.v1"]
    assert (refund.claim_id, refund.claim_counts_against_seller) == (claim_id, True)
    assert ok(await world.http.get("/v1/claims", params={"open": "true"})) == []


async def test_a_lost_service_chargeback_counts_and_a_lost_fraud_chargeback_does_not(world: World) -> None:
    verdicts = {}
    for reason in (ChargebackReason.NOT_RECEIVED, ChargebackReason.FRAUD):
        order_id = await world.order(at=T0)
        chargeback_id = unique("CB")
        await world.buyer(i.BankChargebackFiled(chargeback_id=chargeback_id, order_id=order_id, reason=reason,
                                                amount=Money(amount=Decimal("50.00"), currency="USD"),
                                                filed_at=T0 + 20 * DAY), chargeback_id, T0 + 20 * DAY)
        await world.buyer(i.BankChargebackDecided(chargeback_id=chargeback_id, order_id=order_id,
                                                  outcome=ChargebackOutcome.SELLER_LOST, decided_at=T0 + 30 * DAY),
                          chargeback_id, T0 + 30 * DAY)
        verdicts[chargeback_id] = reason
    events = await world.published(*["sellerflow.chargeback.filed.v1", "sellerflow.chargeback.decided.v1"] * 2)
    counts = {verdicts[e.data.chargeback_id]: e.data.counts_against_seller for e in events
              if e.type == "sellerflow.chargeback.decided.v1"}
    assert counts == {ChargebackReason.NOT_RECEIVED: True, ChargebackReason.FRAUD: False}


async def test_negative_feedback_removed_by_an_operator_leaves_the_work_list_and_reviews_are_not_feedback(
    world: World,
) -> None:
    order_id = await world.order(at=T0)
    feedback = i.BuyerFeedbackLeft(feedback_id=unique("F"), order_id=order_id, buyer_id="B-1", stars=2,
                                   left_at=T0 + 6 * DAY)
    review = i.BuyerReviewPosted(review_id=unique("RV"), listing_id="L-1", order_id=order_id, stars=1,
                                 posted_at=T0 + 6 * DAY)
    await world.buyer(feedback, feedback.feedback_id, T0 + 6 * DAY)
    await world.buyer(review, review.review_id, T0 + 6 * DAY)
    await world.until("SELECT count(*) FROM reviews WHERE seller_id = $1", what="review recorded")
    assert [f["feedback_id"] for f in ok(await world.http.get("/v1/work"))["negative_feedback"]] == [
        feedback.feedback_id]  # the review is not feedback
    assert (await world.http.post(f"/v1/feedback/{feedback.feedback_id}/removal", json={})).status_code == 403

    removed = ok(await world.operator.post(f"/v1/feedback/{feedback.feedback_id}/removal",
                                           json={"reason": "About the product", "at": (T0 + 7 * DAY).isoformat()}))

    assert removed["status"] == "removed"
    assert ok(await world.http.get("/v1/work"))["negative_feedback"] == []
    events = await world.published("sellerflow.feedback.received.v1", "sellerflow.review.received.v1",
                                   "sellerflow.feedback.removed.v1")
    [gone] = [e.data for e in events if e.type == "sellerflow.feedback.removed.v1"]
    assert (gone.feedback_id, gone.removed_by, gone.reason) == (feedback.feedback_id, "operator", "About the product")


async def _return(world: World, order_id: str, at: datetime) -> str:
    return_id = unique("R")
    await world.buyer(i.BuyerReturnRequested(return_id=return_id, order_id=order_id, buyer_id="B-1",
                                             requested_at=at, reason=ReturnReason.DAMAGED), return_id, at)
    await world.until("SELECT count(*) FROM returns WHERE seller_id = $1 AND return_id = $2", return_id,
                      what="return recorded")
    return return_id


async def _claim(world: World, order_id: str, at: datetime, reason: ClaimReason, amount: str) -> str:
    claim_id = unique("C")
    await world.buyer(i.BuyerClaimFiled(claim_id=claim_id, order_id=order_id, buyer_id="B-1", reason=reason,
                                        amount=Money(amount=Decimal(amount), currency="USD"), filed_at=at),
                      claim_id, at)
    await world.until("SELECT count(*) FROM claims WHERE seller_id = $1 AND claim_id = $2", claim_id,
                      what="claim recorded")
    return claim_id


# --- feedback and parking -------------------------------------------------------------------------


async def test_feedback_for_an_order_that_arrives_before_the_order_is_parked_then_applied(world: World) -> None:
    early = unique("O")  # the buyer's feedback overtakes the order service's order.placed
    feedback = i.BuyerFeedbackLeft(feedback_id=unique("F"), order_id=early, buyer_id="B-1", stars=1,
                                   left_at=T0 + 6 * DAY)
    await world.buyer(feedback, feedback.feedback_id, T0 + 6 * DAY)
    await world.until("SELECT count(*) FROM parked WHERE seller_id = $1 AND order_id = $2", early,
                      what="feedback parked")
    await world.order(at=T0)  # another order of the seller: the feedback keeps waiting
    assert await world.count("SELECT count(*) FROM parked WHERE seller_id = $1 AND order_id = $2", early) == 1
    assert await world.count("SELECT count(*) FROM feedback WHERE seller_id = $1") == 0

    await world.order(at=T0, order_id=early)

    await world.until("SELECT count(*) FROM feedback WHERE seller_id = $1 AND order_id = $2", early,
                      what="feedback applied")
    assert await world.count("SELECT count(*) FROM parked WHERE seller_id = $1") == 0
    events = await world.published("sellerflow.feedback.received.v1")
    [received] = [e.data for e in events if e.type == "sellerflow.feedback.received.v1"]
    assert (received.order_id, received.stars, received.negative) == (early, 1, True)
    work = ok(await world.http.get("/v1/work"))
    assert [f["order_id"] for f in work["negative_feedback"]] == [early]


async def test_an_item_whose_order_never_arrives_is_dead_lettered_after_3_days(world: World) -> None:
    missing = unique("O")
    now = T0 + 40 * DAY
    claim = i.BuyerClaimFiled(claim_id=unique("C"), order_id=missing, buyer_id="B-1", reason=ClaimReason.OTHER,
                              amount=Money(amount=Decimal("5.00"), currency="USD"), filed_at=now)
    event = await world.buyer(claim, claim.claim_id, now)
    await world.until("SELECT count(*) FROM parked WHERE seller_id = $1", what="claim parked")
    parked_until = await world.runtime.context.pool.fetchval(
        "SELECT expires_at FROM parked WHERE seller_id = $1", world.seller)

    await world.tick(parked_until + HOUR)

    [(value, headers)] = await dead_letters_of(world.settings, world.seller, expect=1)
    assert value == event.to_bytes()
    assert headers[dl.H_ERROR_TYPE] == "ParkingExpired"
    assert f"order {missing} unknown" in headers[dl.H_ERROR_MESSAGE]


async def test_a_second_feedback_for_an_order_is_refused_and_duplicates_apply_once(world: World) -> None:
    order_id = await world.order(at=T0)
    first = i.BuyerFeedbackLeft(feedback_id=unique("F"), order_id=order_id, buyer_id="B-1", stars=5,
                                left_at=T0 + 5 * DAY)
    second = i.BuyerFeedbackLeft(feedback_id=unique("F"), order_id=order_id, buyer_id="B-1", stars=1,
                                 left_at=T0 + 6 * DAY)
    await world.buyer(first, first.feedback_id, T0 + 5 * DAY)
    await world.buyer(first, first.feedback_id, T0 + 5 * DAY)  # sent again with a new event id
    refused = await world.buyer(second, second.feedback_id, T0 + 6 * DAY)

    [(value, headers)] = await dead_letters_of(world.settings, world.seller, expect=1)
    assert value == refused.to_bytes()
    assert "one per order" in headers[dl.H_ERROR_MESSAGE]
    events = await world.published("sellerflow.feedback.received.v1")
    assert [e.data.feedback_id for e in events if e.type == "sellerflow.feedback.received.v1"] == [first.feedback_id]


async def test_a_seller_sees_only_its_own_work(world: World, aftersales: ServiceRuntime) -> None:
    other = World(aftersales)
    try:
        assert (await world.http.get("/v1/work", params={"seller_id": other.seller})).status_code == 403
        assert (await world.http.get("/v1/work", headers={"Authorization": ""})).status_code == 401
        assert ok(await world.operator.get("/v1/work", params={"seller_id": world.seller}))["open_claims"] == []
    finally:
        await other.close()


# --- unknown sellers ------------------------------------------------------------------------------


async def test_buyer_events_for_a_seller_that_never_registered_are_dead_lettered_and_not_listed(
    aftersales: ServiceRuntime,
) -> None:
    stranger = World(aftersales)  # no seller.registered for it
    try:
        message_id, review_id = unique("M"), unique("R")
        message = await stranger.buyer(i.BuyerMessageSent(message_id=message_id, buyer_id="B-1", sent_at=T0,
                                                          body="Do you ship to Canada?"), message_id, T0)
        review = await stranger.buyer(i.BuyerReviewPosted(review_id=review_id, listing_id="L-1", stars=1,
                                                          posted_at=T0), review_id, T0)
        letters = await dead_letters_of(stranger.settings, stranger.seller, expect=2)
        assert [value for value, _ in letters] == [message.to_bytes(), review.to_bytes()]
        assert {headers[dl.H_ERROR_MESSAGE] for _, headers in letters} == {
            f"seller {stranger.seller!r} is unknown: no seller.registered for it"}
        assert await stranger.count("SELECT count(*) FROM buyer_messages WHERE seller_id = $1") == 0
        assert await stranger.count("SELECT count(*) FROM reviews WHERE seller_id = $1") == 0
        assert ok(await stranger.operator.get("/v1/messages", params={"seller_id": stranger.seller})) == []
    finally:
        await stranger.close()
