"""The metrics service's breaches, account health rating, band, open violations and enforcement level checked
against `health_reference` (domain.md sections 6 and 7, from the raw events alone), for every seller of the
generated history, at its end and at the end of every past day (`as_of`), and for two more sellers whose
histories probe the rules the generated one does not reach: repeats (a third, one after a resolved one, the
180-day edges), the 180-day life of a policy violation, the volume bonus, and a breach that falls below 25 items."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.events import topics
from shared.events.clock import ClockTicked
from shared.events.fulfillment import ShipmentConfirmed
from shared.events.order import OrderCancelled, OrderConfirmed, OrderPlaced
from shared.runtime import ServiceRuntime
from tests.integration.metrics import test_metrics_service as service_test
from tests.integration.metrics.health_reference import Expected, HealthReference
from tests.integration.metrics.history import History, appeal, violation
from tests.integration.metrics.test_metrics_service import (
    DAY,
    END,
    RUN,
    SELLERS,
    _card,
    _events,
    applied,
    publish,
    publish_history,
)
from tests.support.platform import client

# The module-scoped fixtures of test_metrics_service: this module gets its own service and the same history.
metrics = service_test.metrics
history = service_test.history

pytestmark = pytest.mark.integration

POLICY_SELLER = f"P{RUN}"  # policy violations only: repeats, resolutions, the 180-day edges
VOLUME_SELLER = f"F{RUN}"  # 200 orders shipped in the last 180 days (and one just outside): the volume bonus
LOW_VOLUME_SELLER = f"Q{RUN}"  # a cancel-rate breach whose window falls below 25 orders while still missing

HOUR = timedelta(hours=1)


def _policy_history(h: History) -> None:
    s = POLICY_SELLER
    # messaging: one 200 days ago (gone with its 180 days), one opened exactly 180 days after it (not a repeat
    # by the reference's reading), then a repeat of that one and a third (doubled once, not again)
    violation(h, s, f"M1{RUN}", "messaging", "low", END - 200 * DAY)
    violation(h, s, f"M2{RUN}", "messaging", "low", END - 20 * DAY)
    violation(h, s, f"M3{RUN}", "messaging", "medium", END - 10 * DAY)
    violation(h, s, f"M4{RUN}", "messaging", "low", END - 5 * DAY)
    # review: one resolved by an appeal, then a repeat of it (the resolved one still opened)
    violation(h, s, f"R1{RUN}", "review", "medium", END - 30 * DAY)
    appeal(h, s, f"AP{RUN}-P", [f"R1{RUN}"], END - 25 * DAY)
    violation(h, s, f"R2{RUN}", "review", "low", END - 15 * DAY)
    # listing: detected 180 and 179 calendar days ago: the first closed, the second (a repeat) on its 180th date
    violation(h, s, f"L1{RUN}", "listing", "high", END - 180 * DAY)
    violation(h, s, f"L2{RUN}", "listing", "low", END - 179 * DAY)

def _order(h: History, seller: str, order_id: str, purchased: datetime, channel: str, *, ship: bool = True) -> None:
    base = {"order_id": order_id, "purchased_at": purchased, "fulfillment_channel": channel}
    money = {"amount": Decimal("10.00"), "currency": "USD"}
    line = {"listing_id": "L-1", "sku": "SKU-1", "quantity": 1, "unit_price": money}
    ship_by, deliver_by = purchased + 2 * DAY, purchased + 7 * DAY
    h.add(topics.ORDER_EVENTS, OrderPlaced.model_validate({
        **base, "buyer_id": "B-1", "lines": [line], "currency": "USD", "total": money,
        "shipping_speed": "standard", "ship_to_country": "US"}), purchased, seller, order_id)
    h.add(topics.ORDER_EVENTS, OrderConfirmed.model_validate({
        **base, "shipping_speed": "standard", "lines": [line], "currency": "USD", "total": money,
        "ship_by": ship_by, "deliver_by": deliver_by}), purchased, seller, order_id)
    if not ship:
        cancelled = purchased + HOUR
        h.add(topics.ORDER_EVENTS, OrderCancelled.model_validate({
            **base, "by": "seller", "reason": "r", "before_shipment": True, "cancelled_at": cancelled}),
            cancelled, seller, order_id)
        return
    shipped = purchased + 2 * HOUR  # the same calendar date: on time
    h.add(topics.FULFILLMENT_EVENTS, ShipmentConfirmed.model_validate({
        **base, "shipment_id": f"{order_id}-S", "shipped_at": shipped, "ship_by": ship_by,
        "deliver_by": deliver_by, "carrier": "ups", "tracking_number": "1Z999AA10123456784",
        "tracking_format_valid": True, "lines": [{"listing_id": "L-1", "sku": "SKU-1", "quantity": 1}]}),
        shipped, seller, order_id)


def _volume_history(h: History) -> None:
    rng = random.Random(17)
    ages = [rng.randrange(1, 178) for _ in range(198)] + [179, 179, 180]  # 200 in the last 180 dates, 1 outside
    for i, age in enumerate(ages):
        _order(h, VOLUME_SELLER, f"{VOLUME_SELLER}-O{i}", END - age * DAY - 5 * HOUR,
               "marketplace" if i % 2 else "merchant")


def _low_volume_history(h: History) -> None:
    # Day d = END - 5 days: 20 merchant orders, one cancelled by the seller; 5 more on d - 3. The 7-day cancel
    # rate is 1/25 = 4% (missed, >= 2.5%) from d to d + 3, then 1/20 = 5% on d + 4 and d + 5 (still missed, but fewer
    # than 25 orders: no breach counts, so by the reference's reading the violation closed).
    d = END - 5 * DAY - 6 * HOUR
    for i in range(20):
        _order(h, LOW_VOLUME_SELLER, f"{LOW_VOLUME_SELLER}-O{i}", d, "merchant", ship=i != 0)
    for i in range(20, 25):
        _order(h, LOW_VOLUME_SELLER, f"{LOW_VOLUME_SELLER}-O{i}", d - 3 * DAY, "merchant")


@pytest.fixture(scope="module")
async def extra(metrics: ServiceRuntime, history: History) -> History:
    h = History(END)
    _policy_history(h)
    _volume_history(h)
    _low_volume_history(h)
    await publish_history(metrics, h.events, random.Random(13))
    h.add(topics.CLOCK_EVENTS, ClockTicked(now=END), END, "clock", "clock")  # decide on everything
    await applied(metrics, await publish(metrics.settings, h.events[-1:]))
    return h


@pytest.fixture(scope="module")
def ref(history: History, extra: History) -> HealthReference:
    return HealthReference(_events(history) + _events(extra))


async def _health(runtime: ServiceRuntime, seller: str, as_of: datetime | None = None) -> dict[str, Any]:
    async with client(runtime) as http:
        response = await http.get(f"/v1/sellers/{seller}/health",
                                  params={"as_of": as_of.isoformat()} if as_of else {})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _service_figures(health: dict[str, Any], card: dict[str, Any]) -> dict[str, Any]:
    return {
        "rating": health["rating"], "band": health["band"],
        "card rating, band": (card["rating"], card["band"]),
        "breached keys": {(m["name"], m["channel"], m["window_days"]) for m in card["metrics"] if m["breach"]},
        "breached metrics": set(health["breached_metrics"]),
        "open violations' points": {line["violation_id"]: line["points"] for line in health["ledger"]
                                    if line["kind"] == "violation"},
        "critical": set(health["critical_violations"]),
    }


def _reference_figures(x: Expected) -> dict[str, Any]:
    return {
        "rating": x.rating, "band": x.band,
        "card rating, band": (x.rating, x.band),
        "breached keys": x.breached,
        "breached metrics": x.breached_metrics,
        "open violations' points": {v.violation_id: -v.points for v in x.open if v.severity != "critical"},
        "critical": set(x.critical),
    }


def _expected_level(x: Expected) -> str | None:
    """Section 7, enforcement: at risk -> warn; an ODR, cancel-rate or late-shipment breach -> restrict;
    critical or a critical violation -> suspend (the strongest applies)."""
    if x.band == "critical" or x.critical:
        return "suspended"
    if x.breached_metrics & {"order_defect_rate", "pre_fulfillment_cancel_rate", "late_shipment_rate"}:
        return "restricted"
    return "warned" if x.band == "at_risk" else None


async def test_health_at_the_end_equals_the_reference(metrics: ServiceRuntime, ref: HealthReference) -> None:
    for seller in SELLERS:
        health, card = await _health(metrics, seller), await _card(metrics, seller)
        x = ref.expected(seller, END)
        assert _service_figures(health, card) == _reference_figures(x), seller
        assert card["orders_fulfilled"]["count"] == x.fulfilled, seller
        level = _expected_level(x)
        if level is not None:
            assert health["enforcement"] is not None and health["enforcement"]["level"] == level, seller
    assert {ref.expected(s, END).band for s in SELLERS} >= {"at_risk", "critical"}  # the history reaches both


async def test_health_at_every_past_days_end_equals_the_reference(metrics: ServiceRuntime, ref: HealthReference
                                                                  ) -> None:
    # `as_of=D` is what the service said at the end of day D (windows ending with D): judged like the reference
    # at D's last instant.
    for back in (*range(1, 8), *range(10, 46, 5)):  # the last week every day, then every fifth day
        day = (END - back * DAY).replace(hour=8, minute=0)
        end_of_day = datetime.combine(day.date(), datetime.max.time(), tzinfo=END.tzinfo)
        for seller in SELLERS:
            health, card = await _health(metrics, seller, day), await _card(metrics, seller, day)
            assert _service_figures(health, card) == _reference_figures(ref.expected(seller, end_of_day)), \
                (seller, day.date())


async def test_policy_violations_repeats_and_their_180_days(metrics: ServiceRuntime, ref: HealthReference) -> None:
    x = ref.expected(POLICY_SELLER, END)
    points = {v.violation_id.removesuffix(RUN): -v.points for v in x.open}
    # what the reference reads from section 7 (written out, so a change of the reference shows here too)
    assert points == {"M2": -2, "M3": -8, "M4": -4, "R2": -4, "L2": -4}
    assert x.rating == 200 - 22 and x.band == "at_risk"
    health, card = await _health(metrics, POLICY_SELLER), await _card(metrics, POLICY_SELLER)
    assert _service_figures(health, card) == _reference_figures(x)
    for back in (3, 8, 12, 17, 22, 27, 40):
        at = END - back * DAY
        end_of_day = datetime.combine(at.date(), datetime.max.time(), tzinfo=END.tzinfo)
        health, card = await _health(metrics, POLICY_SELLER, at), await _card(metrics, POLICY_SELLER, at)
        assert _service_figures(health, card) == _reference_figures(ref.expected(POLICY_SELLER, end_of_day)), back


async def test_the_volume_bonus_counts_orders_shipped_in_the_last_180_days(
    metrics: ServiceRuntime, ref: HealthReference,
) -> None:
    x = ref.expected(VOLUME_SELLER, END)
    assert (x.fulfilled, x.bonus, x.rating, x.band) == (200, 4, 204, "healthy")
    health, card = await _health(metrics, VOLUME_SELLER), await _card(metrics, VOLUME_SELLER)
    assert card["orders_fulfilled"]["count"] == x.fulfilled
    assert _service_figures(health, card) == _reference_figures(x)


async def test_a_breach_that_falls_below_25_items_no_longer_counts(metrics: ServiceRuntime, ref: HealthReference
                                                                   ) -> None:
    seller = LOW_VOLUME_SELLER
    for back in (5, 4, 3, 2, 1, 0):
        at = END - back * DAY
        end_of_day = at if back == 0 else datetime.combine(at.date(), datetime.max.time(), tzinfo=END.tzinfo)
        x = ref.expected(seller, end_of_day)
        health, card = await _health(metrics, seller, at), await _card(metrics, seller, at)
        assert _service_figures(health, card) == _reference_figures(x), back
    x = ref.expected(seller, END)
    cancel = [v for v in x.violations if v.category == "pre_fulfillment_cancel_rate"]
    assert [(v.opened.date(), v.is_open) for v in cancel] == [((END - 5 * DAY).date(), False)]
    assert (x.rating, x.band) == (200, "healthy")
