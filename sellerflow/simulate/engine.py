"""The simulation loop: business time in one-day steps, each ending with a clock tick on an idle platform.

Per day: buyers place orders; every action due in the day runs (carrier scans and buyer items on the
ingress topics, seller and operator commands over HTTP; each seller confirms its day's shipments in
one bulk call, as a shipping-confirmation feed does); the simulator waits for every service to
settle, the clock ticks, and it waits again. Then it looks at the platform the way a seller would
(open orders, its open work: messages, returns, claims; its account) and plans what comes next.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time as time_module
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sellerflow.simulate import behaviour as b
from sellerflow.simulate.doors import Doors, PlatformError
from sellerflow.simulate.population import SimSeller, population
from shared.events import topics
from shared.events.ingress import (
    BankChargebackDecided,
    BankChargebackFiled,
    BuyerClaimFiled,
    BuyerFeedbackLeft,
    BuyerMessageSent,
    BuyerReturnRequested,
    BuyerReviewPosted,
    CarrierScanRecorded,
    CheckoutOrderPlaced,
)

log = logging.getLogger(__name__)
STEP = timedelta(days=1)
#: Shipment confirmations in one bulk call (the route takes up to 500).
SHIP_BATCH = 500
SELLING = {"active", "warned", "restricted", "reinstated"}
STOREFRONT, CARRIERS = "https://storefront.example", "https://carriers.example"
BUYERS, BANK = "https://buyers.example", "https://bank.example"


@dataclass
class Stats:
    orders: int = 0
    shipped: int = 0
    cancelled: int = 0
    refused_commands: int = 0
    blocked_messages: int = 0
    appeals: int = 0
    #: Wall-clock seconds spent per phase of the loop: where a run's time goes.
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time_module.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time_module.perf_counter() - started


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    label: str = field(compare=False)
    run: Callable[[], Awaitable[None]] = field(compare=False)
    entity: str = field(compare=False, default="")  # actions on one entity run in order; others side by side
    shipment: _Shipment | None = field(compare=False, default=None)  # a shipment, confirmed in bulk


@dataclass(frozen=True)
class _Shipment:
    seller: SimSeller
    order: dict[str, Any]
    plan: b.ShipPlan


class Simulation:
    def __init__(self, doors: Doors, *, sellers: int, days: int, seed: int,
                 start: date = date(2026, 1, 5), appeals: int = -1) -> None:
        self.doors = doors
        self.days = days
        self.seed = seed
        self.start = datetime.combine(start, time(0), UTC)
        self.sellers = population(sellers, seed, start=start)
        self.by_id = {s.seller_id: s for s in self.sellers}
        self.appeals_left = appeals  # how many restricted sellers appeal; -1: every one
        self.stats = Stats()
        self._queue: list[_Action] = []
        self._seq = itertools.count()
        self._planned: set[str] = set()  # entity ids already planned: orders, shipments, messages ...
        self._drafts: dict[str, b.OrderDraft] = {}

    # --- scheduling -------------------------------------------------------------------------------
    def at(self, moment: datetime, label: str, run: Callable[[], Awaitable[None]], entity: str = "",
           shipment: _Shipment | None = None) -> None:
        heapq.heappush(self._queue, _Action(moment, next(self._seq), label, run, entity, shipment))

    async def run_due(self, end: datetime) -> None:
        """Every action due before `end`: each seller's shipments confirmed in bulk, then the rest, one
        entity's in time order, different entities concurrently (they do not touch each other, so the
        outcome does not depend on the interleaving). A shipment is the first thing that happens to
        its order: what follows it is planned once it is confirmed, for a later call."""
        chains: dict[str, list[_Action]] = {}
        shipments: dict[str, list[_Shipment]] = {}
        while self._queue and self._queue[0].at < end:
            action = heapq.heappop(self._queue)
            if action.shipment is not None:
                shipments.setdefault(action.shipment.seller.seller_id, []).append(action.shipment)
            else:
                chains.setdefault(action.entity or f"#{action.seq}", []).append(action)
        # The shipments first, then the rest: side by side they only slow each other down (measured).
        with self.stats.timed("sellers ship"):
            await gather_bounded([self._confirm(due) for due in shipments.values()])

        async def chain(actions: list[_Action]) -> None:
            for action in actions:
                with self.stats.timed(action.label):
                    await action.run()

        await gather_bounded([chain(actions) for actions in chains.values()], limit=16)

    def once(self, key: str) -> bool:
        if key in self._planned:
            return False
        self._planned.add(key)
        return True

    async def command(self, call: Awaitable[Any]) -> Any:
        """A seller's or operator's command; one the platform refuses (409, 422) is counted, not fatal."""
        try:
            return await call
        except PlatformError as error:
            self.stats.refused_commands += 1
            log.info("command refused", extra={"error": str(error)})
            return None

    # --- the run ----------------------------------------------------------------------------------
    async def run(self, on_day: Callable[[int, Simulation], Awaitable[None]] | None = None) -> None:
        await self.doors.tick(self.start)
        await self.doors.wait_idle()
        await self.onboard()
        now = self.start
        timed = self.stats.timed
        for day in range(1, self.days + 1):
            end = now + STEP
            with timed("buyers order"):
                await self.buyers_order(now, end)
            with timed("due actions"):
                await self.run_due(end)
            with timed("publish"):
                await self.doors.flush()
            with timed("platform settles"):
                # Everything of this day applied first, then the tick: deadlines and enforcement on
                # the tick see the same state in every run.
                await self.doors.wait_idle()
                await self.doors.tick(end)
                await self.doors.wait_idle()
            with timed("sellers look"):
                await self.observe(end)
            if on_day is not None:
                await on_day(day, self)
            now = end

    async def onboard(self) -> None:
        for seller in self.sellers:
            outcome = await self.command(self.doors.register({
                **seller.registration, "seller_id": seller.seller_id, "at": self.start.isoformat()}))
            if outcome is None:
                continue
            if outcome["status"] == "pending_review":
                await self.command(self.doors.post("listing", f"/v1/sellers/{seller.seller_id}/decision",
                                                   {"approved": True, "at": self.start.isoformat()}))
                outcome = await self.doors.registration(seller.seller_id, outcome["receipt"])
            seller.token, seller.status = outcome["token"], outcome["status"]
        await self.doors.wait_idle()
        for seller in self.sellers:
            if seller.status not in SELLING:
                continue
            for listing in seller.listings:
                await self.command(self.doors.post("listing", f"/v1/sellers/{seller.seller_id}/listings",
                                                   {**listing, "at": self.start.isoformat()}, token=seller.token))
        await self.doors.wait_idle()

    # --- buyers -----------------------------------------------------------------------------------
    async def buyers_order(self, start: datetime, end: datetime) -> None:
        for seller in self.sellers:
            if seller.status not in SELLING:
                continue
            drafts = b.draw_orders(self.seed, seller, start, end, merchant_allowed=seller.status != "restricted")
            events = []
            for draft in drafts:
                self._drafts[draft.order_id] = draft
                data = CheckoutOrderPlaced.model_validate(draft.payload())
                events.append(self.doors.event(data, seller_id=seller.seller_id, subject=draft.order_id,
                                               time=draft.purchased_at, source=STOREFRONT))
            await self.doors.send(topics.INGRESS_ORDERS, events)
            self.stats.orders += len(events)

    async def ingress(self, topic: str, seller: SimSeller, subject: str, when: datetime, data: Any,
                      source: str) -> None:
        await self.doors.send(topic, [self.doors.event(data, seller_id=seller.seller_id, subject=subject, time=when,
                                                       source=source)])

    # --- looking at the platform, once a day ------------------------------------------------------
    async def observe(self, now: datetime) -> None:
        """Read every seller's view concurrently, then plan in seller order: plans do not depend on timing."""
        sellers = [s for s in self.sellers if s.token is not None]
        accounts = await self.accounts()
        snapshots = await gather_bounded([self.snapshot(s, now, accounts[s.seller_id]) for s in sellers])
        for seller, snapshot in zip(sellers, snapshots, strict=True):
            self.plan(seller, {**snapshot, "account": accounts[seller.seller_id]}, now)

    async def accounts(self, page: int = 500) -> dict[str, dict[str, Any]]:
        """Every seller's account, as the operator's list shows it (one call per 500 sellers)."""
        found: dict[str, dict[str, Any]] = {}
        while True:
            batch = await self.doors.get("listing", "/v1/sellers", params={"limit": page, "offset": len(found)})
            found.update((account["seller_id"], account) for account in batch)
            if len(batch) < page:
                return found

    async def snapshot(self, seller: SimSeller, now: datetime, account: dict[str, Any]) -> dict[str, Any]:
        get, token = self.doors.get, seller.token
        # What the warehouse shipped lately (a marketplace order ships on a tick, the day after it was
        # confirmed): two days back covers it, and a parcel already on its way is not planned twice.
        recent = await get("fulfillment", "/v1/shipments", token=token, params={
            "channel": "marketplace", "shipped_since": (now - timedelta(days=2)).isoformat(), "limit": 1000})
        work = await get("aftersales", "/v1/work", token=token, params={"limit": 500})
        # A restricted seller's open violations, read now, on the settled platform right after the tick: an
        # appeal that read them later, while the next day's orders are applied, would name what it saw then.
        health = await get("metrics", f"/v1/sellers/{seller.seller_id}/health", token=token) \
            if account["status"] == "restricted" else {}
        ledger = health.get("ledger", [])
        return {
            "violations": sorted({line["violation_id"] for line in ledger if line.get("violation_id")}),
            "unshipped": await get("order", "/v1/orders", token=token, params={"status": "unshipped", "limit": 500}),
            "marketplace": recent,
            "messages": work["messages_due"],
            "returns": work["returns_awaiting"],
            "claims": work["open_claims"],
        }

    def plan(self, seller: SimSeller, snapshot: dict[str, Any], now: datetime) -> None:
        for order in snapshot["unshipped"]:
            if order["fulfillment_channel"] == "merchant" and self.once(f"ship/{order['order_id']}"):
                plan = b.plan_shipping(self.seed, seller.profile, order["order_id"], now,
                                       datetime.fromisoformat(order["ship_by"]))
                self._plan_shipping(seller, order, plan)
        for shipment in snapshot["marketplace"]:
            draft = self._drafts.get(shipment["order_id"])  # None: an order this run did not place
            if draft is not None and self.once(f"journey/{shipment['order_id']}"):
                plan = b.ShipPlan(False, datetime.fromisoformat(shipment["shipped_at"]), shipment["carrier"],
                                  shipment["tracking_number"], True)
                self._start_journey(seller, draft.as_order(deliver_by=shipment["deliver_by"]), plan)
        for message in snapshot["messages"]:
            if self.once(f"reply/{message['message_id']}"):
                self._plan_reply(seller, message)
        for item in snapshot["returns"]:
            if item["status"] == "requested" and self.once(f"return/{item['return_id']}"):
                self._plan_return(seller, item)
        for claim in snapshot["claims"]:
            if self.once(f"claim/{claim['claim_id']}"):
                at = datetime.fromisoformat(claim["filed_at"]) + timedelta(days=2)
                path = f"/v1/claims/{claim['claim_id']}/decision"
                self.at(at, "operator decides claim", self._post(None, "aftersales", path,
                                                                 {"outcome": "granted", "at": at.isoformat()}),
                        claim["order_id"])
        seller.status = snapshot["account"]["status"]
        if seller.status == "restricted" and self.appeals_left != 0 and self.once(f"appeal/{seller.seller_id}"):
            self.appeals_left -= 1
            self.at(now + timedelta(days=1), "seller appeals",
                    self._appeal(seller, now + timedelta(days=1), snapshot["violations"]), seller.seller_id)

    def _plan_shipping(self, seller: SimSeller, order: dict[str, Any], plan: b.ShipPlan) -> None:
        order_id = order["order_id"]
        if not plan.cancel:
            self.at(plan.at, "seller ships", _nothing, order_id, _Shipment(seller, order, plan))
            return

        async def cancel() -> None:
            done = await self.command(self.doors.post("order", f"/v1/orders/{order_id}/cancellation", {
                "reason": "out of stock", "at": plan.at.isoformat()}, token=seller.token))
            self.stats.cancelled += done is not None
        self.at(plan.at, "seller cancels", cancel, order_id)

    async def _confirm(self, due: list[_Shipment]) -> None:
        """One seller's shipments of the day, in bulk; then each parcel's journey is planned."""
        seller = due[0].seller
        for start in range(0, len(due), SHIP_BATCH):
            chunk = due[start:start + SHIP_BATCH]
            body = {"confirmations": [{
                "order_id": s.order["order_id"], "carrier": s.plan.carrier, "tracking_number": s.plan.tracking_number,
                "lines": [{"listing_id": ln["listing_id"], "quantity": ln["quantity"]} for ln in s.order["lines"]],
                "at": s.plan.at.isoformat()} for s in chunk]}
            response = await self.command(self.doors.post("fulfillment", "/v1/shipment-confirmations", body,
                                                          token=seller.token))
            if response is None:
                continue
            for shipped, result in zip(chunk, response.json()["results"], strict=True):
                if result["status"] not in (200, 201):
                    self.stats.refused_commands += 1
                    continue
                self.stats.shipped += 1
                self._shipped(shipped)

    def _shipped(self, shipped: _Shipment) -> None:
        seller, order_id, plan = shipped.seller, shipped.order["order_id"], shipped.plan
        self._start_journey(seller, shipped.order, plan)
        if b.rng_for(self.seed, "spam", order_id).random() < seller.profile.spam:
            text = b.rng_for(self.seed, "spamtext", order_id).choice(b.SPAM)
            at = plan.at + timedelta(hours=1)
            self.at(at, "seller spams", self._seller_message(seller, order_id, text, at), order_id)

    def _seller_message(self, seller: SimSeller, order_id: str, text: str, at: datetime
                        ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            response = await self.command(self.doors.call(
                "aftersales", "POST", f"/v1/orders/{order_id}/messages",
                json={"text": text, "at": at.isoformat(), "message_id": f"sm-{order_id}"},
                token=seller.token, ok=(200, 201, 422)))
            if response is not None and response.status_code == 422:
                self.stats.blocked_messages += 1
        return run

    def _start_journey(self, seller: SimSeller, order: dict[str, Any], plan: b.ShipPlan) -> None:
        deliver_by = datetime.fromisoformat(order["deliver_by"]) if order.get("deliver_by") else None
        journey = b.plan_journey(self.seed, seller.profile, order["order_id"], plan.at, order["shipping_speed"],
                                 scanned=plan.scans, deliver_by=deliver_by, shipped_late=plan.late)
        self._schedule_journey(seller, order, plan, journey)

    def _schedule_journey(self, seller: SimSeller, order: dict[str, Any], plan: b.ShipPlan, journey: b.Journey) -> None:
        order_id, buyer = order["order_id"], order["buyer_id"]
        total = {"amount": str(Decimal(str(order["total"]))), "currency": order["currency"]}

        def later(when: datetime, label: str, topic: str, data: Any, source: str = BUYERS) -> None:
            self.at(when, label, self._send(topic, seller, order_id, when, data, source), order_id)

        for when, status in journey.scans:
            later(when, "carrier scan", topics.INGRESS_CARRIER, CarrierScanRecorded(
                carrier=plan.carrier, tracking_number=plan.tracking_number, status=status, scanned_at=when), CARRIERS)
        if journey.message_at:
            text = b.rng_for(self.seed, "question", order_id).choice(b.BUYER_QUESTIONS)
            later(journey.message_at, "buyer writes", topics.INGRESS_BUYER, BuyerMessageSent(
                message_id=f"M-{order_id}", order_id=order_id, buyer_id=buyer, sent_at=journey.message_at, body=text))
        if journey.feedback:
            when, stars = journey.feedback
            later(when, "buyer rates", topics.INGRESS_BUYER, BuyerFeedbackLeft(
                feedback_id=f"F-{order_id}", order_id=order_id, buyer_id=buyer, stars=stars, left_at=when))
        if journey.review:
            when, stars = journey.review
            later(when, "buyer reviews", topics.INGRESS_BUYER, BuyerReviewPosted(
                review_id=f"V-{order_id}", listing_id=order["lines"][0]["listing_id"], order_id=order_id,
                stars=stars, posted_at=when))
        if journey.return_at:
            later(journey.return_at, "buyer returns", topics.INGRESS_BUYER, BuyerReturnRequested(
                return_id=f"R-{order_id}", order_id=order_id, buyer_id=buyer, requested_at=journey.return_at,
                reason="no_longer_needed"))
        if journey.claim_at:
            later(journey.claim_at, "buyer claims", topics.INGRESS_BUYER, BuyerClaimFiled.model_validate({
                "claim_id": f"C-{order_id}", "order_id": order_id, "buyer_id": buyer, "reason": "not_received",
                "amount": total, "filed_at": journey.claim_at}))
        if journey.chargeback_at:
            decided_at = journey.chargeback_at + timedelta(days=5)
            later(journey.chargeback_at, "bank", topics.INGRESS_BUYER, BankChargebackFiled.model_validate({
                "chargeback_id": f"CB-{order_id}", "order_id": order_id, "reason": "not_as_described",
                "amount": total, "filed_at": journey.chargeback_at}), BANK)
            later(decided_at, "bank", topics.INGRESS_BUYER, BankChargebackDecided(
                chargeback_id=f"CB-{order_id}", order_id=order_id, outcome="seller_lost", decided_at=decided_at), BANK)

    def _send(self, topic: str, seller: SimSeller, subject: str, when: datetime, data: Any, source: str
              ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.ingress(topic, seller, subject, when, data, source)
        return run

    def _plan_reply(self, seller: SimSeller, message: dict[str, Any]) -> None:
        message_id = message["message_id"]
        at = datetime.fromisoformat(message["received_at"]) + b.reply_delay(self.seed, seller.profile, message_id)
        text = b.rng_for(self.seed, "replytext", message_id).choice(b.SELLER_REPLIES)
        # The seller's own message ids: a replay gives its messages, and the violations they raise, the same ids.
        self.at(at, "seller replies", self._post(seller, "aftersales", f"/v1/messages/{message_id}/reply", {
            "text": text, "at": at.isoformat(), "message_id": f"re-{message_id}"}), message_id)

    def _plan_return(self, seller: SimSeller, item: dict[str, Any]) -> None:
        return_id = item["return_id"]
        answer = datetime.fromisoformat(item["requested_at"]) + b.return_answer_delay(self.seed, seller.profile,
                                                                                       return_id)
        received, refunded = answer + timedelta(days=3), answer + timedelta(days=3, hours=6)
        base = f"/v1/returns/{return_id}"
        self.at(answer, "seller authorizes", self._post(seller, "aftersales", f"{base}/authorize",
                                                        {"at": answer.isoformat()}), item["order_id"])
        self.at(received, "return arrives", self._post(seller, "aftersales", f"{base}/receive",
                                                       {"at": received.isoformat()}), item["order_id"])
        self.at(refunded, "seller refunds", self._post(seller, "aftersales", f"{base}/refund",
                                                       {"at": refunded.isoformat(), "refund_id": f"RF-{return_id}"}),
                item["order_id"])

    def _appeal(self, seller: SimSeller, at: datetime, named: list[str]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            response = await self.command(self.doors.post("listing", f"/v1/sellers/{seller.seller_id}/appeals", {
                "root_cause": "Orders were handled by one person who fell behind on busy days.",
                "actions": ["Hired a second person", "Ship or answer every order on the day it is confirmed"],
                "prevention": "A daily check of open orders against their ship-by date and of stock levels.",
                "violation_ids": named[:100], "at": at.isoformat()}, token=seller.token))
            if response is None:
                return
            self.stats.appeals += 1
            appeal_id = response.json()["appeal_id"]
            decided = at + timedelta(days=1)
            self.at(decided, "operator accepts appeal", self._accept(seller, appeal_id, decided), seller.seller_id)
        return run

    def _accept(self, seller: SimSeller, appeal_id: str, at: datetime) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            done = await self.command(self.doors.post("listing", f"/v1/appeals/{appeal_id}/decision",
                                                      {"accepted": True, "at": at.isoformat()}))
            if done is not None:
                seller.profile = seller.profile.behaving()  # the plan of action works
        return run

    def _post(self, seller: SimSeller | None, service: str, path: str, body: dict[str, Any]
              ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.command(self.doors.post(service, path, body, token=seller.token if seller else None))
        return run


async def _nothing() -> None:
    """The run of an action the loop handles itself (a shipment, confirmed in bulk)."""


async def gather_bounded(calls: list[Awaitable[Any]], limit: int = 8) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> Any:
        async with semaphore:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))
