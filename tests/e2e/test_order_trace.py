"""Traces an operator can follow (design.md section 9): one storefront order's trace, sampled where it starts,
reaches every service it touches and the seller's scorecard, with database spans, and HTTP requests are
counted per route on /metrics."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared import telemetry
from shared.clock import tick
from shared.events import topics
from shared.settings import SERVICE_NAMES, Settings
from tests.integration.listing.helpers import new_listing, new_seller
from tests.support.factories import T0, checkout_order
from tests.support.kafka import eventually, publish_events
from tests.support.platform import client, running

pytestmark = pytest.mark.e2e


async def test_one_orders_trace_goes_from_the_storefront_through_all_five_services_to_the_scorecard(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    rng = random.Random(7)
    async with running(settings, SERVICE_NAMES) as runtimes:
        await publish_events(settings, topics.CLOCK_EVENTS, [tick(T0 - timedelta(hours=1))])
        seller, seller_http = await new_seller(runtimes["listing"])
        async with seller_http:
            listing = await new_listing(seller_http, seller, quantity=5)
        order = checkout_order(seller, purchased_at=T0, listing_id=listing["listing_id"])
        # A storefront that samples: its traceparent says "sampled"; the test's own sampler samples nothing else.
        trace_id, storefront_span = rng.getrandbits(128), rng.getrandbits(64)
        headers = [("traceparent", f"00-{trace_id:032x}-{storefront_span:016x}-01".encode())]
        await publish_events(settings, topics.INGRESS_ORDERS, [order], headers=headers)

        def in_trace() -> list[ReadableSpan]:
            return [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]

        def reached() -> set[str]:
            return {str(s.attributes.get(telemetry.SERVICE_ATTRIBUTE)) for s in in_trace()
                    if s.attributes and s.kind is SpanKind.CONSUMER}  # a handled event or a batch applied

        async def everywhere() -> bool:
            return set(SERVICE_NAMES) <= reached() and any(s.name == "refresh scorecard" for s in in_trace())

        await eventually(everywhere, timeout=90, what="the order's trace in all five services and the scorecard")

        async with client(runtimes["metrics"]) as http:
            card = (await http.get(f"/v1/sellers/{seller}/scorecard")).json()
            exposition = (await http.get("/metrics")).text
        assert card["sales"]["7d"]["orders"] == 1

    traced = in_trace()
    first = next(s for s in traced if s.name == "handle sellerflow.checkout.order_placed.v1")
    assert first.parent is not None and first.parent.span_id == storefront_span  # continues the storefront's
    assert first.attributes is not None and first.attributes[telemetry.SERVICE_ATTRIBUTE] == "order"
    by_id = {s.context.span_id: s for s in traced}
    scorecard = next(s for s in traced if s.name == "refresh scorecard")
    chain = []
    span: ReadableSpan | None = scorecard
    while span is not None:  # the scorecard's ancestors lead back, unbroken, to the storefront's span
        chain.append(span.name)
        span = by_id.get(span.parent.span_id) if span.parent is not None else None
    assert chain[-1] == "handle sellerflow.checkout.order_placed.v1", chain
    assert any(s.kind is SpanKind.CLIENT and s.attributes and s.attributes.get("db.system") == "postgresql"
               for s in traced), "database calls are spans of the trace"
    assert "publish order.events" in {s.name for s in traced}
    # Nothing else was sampled: the ratio applies where a trace starts, and the test's is 0.
    assert all(s.context.trace_id == trace_id for s in spans.get_finished_spans() if s.kind is SpanKind.CONSUMER)
    scorecard_requests = [line for line in exposition.splitlines()
                          if line.startswith("sellerflow_http_requests_total{")
                          and 'route="/v1/sellers/{seller_id}/scorecard"' in line and 'status="200"' in line]
    assert scorecard_requests, "HTTP requests are counted per route template"
