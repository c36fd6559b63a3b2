"""The first slice: storefront orders on ingress.orders become sales figures on the seller's scorecard."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.clock import tick
from shared.events import topics
from shared.settings import Settings
from tests.support.factories import T0, checkout_order
from tests.support.kafka import eventually, publish, publish_events, read_topic
from tests.support.platform import client, running

pytestmark = pytest.mark.e2e

SELLERS = [f"S-{i:02d}" for i in range(20)]


async def test_a_thousand_orders_give_exactly_those_counts_and_sums_and_one_trace_spans_the_services(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    rng = random.Random(42)
    orders = []
    for i in range(1000):
        seller = SELLERS[i % len(SELLERS)]
        purchased = T0 - timedelta(days=rng.randrange(0, 40), hours=rng.randrange(0, 24))
        orders.append(checkout_order(seller, purchased_at=purchased, quantity=rng.randint(1, 3),
                                     unit_price=f"{rng.randint(100, 9999) / 100:.2f}"))
    now = T0 + timedelta(hours=1)
    expected: dict[str, dict[int, tuple[int, Decimal]]] = defaultdict(dict)
    for seller in SELLERS:
        for days in (7, 30):
            first_day = now.date() - timedelta(days=days - 1)
            mine = [o for o in orders if o.sellerid == seller and o.data.purchased_at.date() >= first_day]
            total = sum((line.unit_price.amount * line.quantity for o in mine for line in o.data.lines), Decimal(0))
            expected[seller][days] = (len(mine), total)

    async with running(settings, ["order", "metrics"]) as services:
        # One traced order, as a storefront that samples would send it: its traceparent says "sampled".
        traced = orders[0]
        trace_id, parent_span = rng.getrandbits(128), rng.getrandbits(64)
        headers = [("traceparent", f"00-{trace_id:032x}-{parent_span:016x}-01".encode())]
        await publish_events(settings, topics.INGRESS_ORDERS, [traced], headers=headers)
        # An invalid order between valid ones: dead-lettered with its reason; the rest flow.
        broken = json.loads(orders[1].to_bytes())
        broken["data"]["currency"] = "dollars"
        await publish(settings, topics.INGRESS_ORDERS, [(b"S-01", json.dumps(broken).encode())])
        await publish_events(settings, topics.INGRESS_ORDERS, orders[2:])
        await publish_events(settings, topics.CLOCK_EVENTS, [tick(now)])
        valid = [orders[0], *orders[2:]]
        for seller in SELLERS:
            expected_seller = expected[seller]
            if seller == "S-01":  # orders[1] was dead-lettered
                expected_seller = _without(orders[1], expected_seller, now)
            expected[seller] = expected_seller

        async with client(services["metrics"]) as http:

            async def scorecards_match() -> bool:
                for seller in SELLERS:
                    response = await http.get(f"/v1/sellers/{seller}/scorecard")
                    if response.status_code == 404:  # no order of this seller consumed yet
                        return False
                    card = response.json()
                    for days in (7, 30):
                        figures = card["sales"].get(f"{days}d")
                        if figures is None:
                            return False
                        count, total = expected[seller][days]
                        gross = Decimal(figures["gross_sales"].get("USD", "0"))
                        if figures["orders"] != count or gross != total:
                            return False
                return True

            await eventually(scorecards_match, timeout=60, what="every scorecard equals the orders sent")
        assert len(valid) == 999

        letters = await read_topic(settings, topics.dlq_topic(topics.INGRESS_ORDERS), expect=1)
        assert len(letters) == 1
        reason = dict(letters[0].headers)["dlq.error.message"].decode()
        assert "currency" in reason

    trace_spans = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    names = {s.name for s in trace_spans}
    assert "handle sellerflow.checkout.order_placed.v1" in names  # the order service
    assert "publish order.events" in names  # through the outbox relay
    assert "handle sellerflow.order.placed.v1" in names  # the metrics service
    handled = next(s for s in trace_spans if s.name == "handle sellerflow.checkout.order_placed.v1")
    assert handled.parent is not None and handled.parent.span_id == parent_span  # continues the storefront's
    untraced = [s for s in spans.get_finished_spans()
                if s.name.startswith("handle ") and s.context.trace_id != trace_id]
    assert not untraced, "messages the producer did not sample get no span of their own"


def _without(order, expected_seller, now):  # type: ignore[no-untyped-def]
    adjusted = dict(expected_seller)
    amount = sum((line.unit_price.amount * line.quantity for line in order.data.lines), Decimal(0))
    for days in (7, 30):
        if order.data.purchased_at.date() >= now.date() - timedelta(days=days - 1):
            count, total = adjusted[days]
            adjusted[days] = (count - 1, total - amount)
    return adjusted
