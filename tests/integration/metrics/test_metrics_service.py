"""The metrics service against the real broker and PostgreSQL: a generated history of several sellers,
published as the other services would, checked against a reference computed from the raw events; duplicates
and out-of-order deliveries; the rebuild; enforcement; access; the dashboard."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from sellerflow.rebuild import rebuild
from services.metrics import queries, views
from shared import db
from shared.auth import Principal, issue_token, seller_token
from shared.clock import tick
from shared.events import Event, new_event, parse_event, topics
from shared.events.clock import ClockTicked
from shared.events.common import EnforcementAction, FulfillmentChannel
from shared.events.order import OrderPlaced
from shared.runtime import ServiceRuntime, create_http_app
from shared.settings import Settings
from tests.integration.metrics.history import (
    History,
    appeal,
    generate,
    reference,
    reference_sales,
    violation,
)
from tests.support.kafka import eventually, publish_events
from tests.support.platform import client, running

pytestmark = pytest.mark.integration

END = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)  # a Friday afternoon: the business clock's final now
RUN = uuid.uuid4().hex[:6]
SELLERS = [f"H{RUN}-{i}" for i in range(6)]
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
async def metrics(module_settings: Settings) -> AsyncIterator[ServiceRuntime]:
    async with running(module_settings, ["metrics"]) as services:
        yield services["metrics"]


Offsets = dict[tuple[str, int], int]  # (physical topic, partition) -> last offset published


async def publish(settings: Settings, events: list[tuple[str, Event[Any]]]) -> Offsets:
    """Send (topic, event) pairs and await every acknowledgement; the last offset of each partition written."""
    assert settings.kafka_bootstrap_servers
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        acks = [await producer.send(settings.topic(topic), e.to_bytes(), key=e.key) for topic, e in events]
        written: Offsets = {}
        for meta in await asyncio.gather(*acks):
            written[(meta.topic, meta.partition)] = max(meta.offset, written.get((meta.topic, meta.partition), -1))
        return written
    finally:
        await producer.stop()


async def applied(runtime: ServiceRuntime, written: Offsets) -> None:
    """Wait until the service's consumer group committed past every record written (a batch commits after its
    transaction), then until the outbox relay sent what those batches staged."""
    consumer = next(getattr(s, "consumer") for s in runtime.context.broker.subscribers  # noqa: B009
                    if getattr(s, "consumer", None))

    async def committed() -> bool:
        for (topic, partition), offset in written.items():
            done = await consumer.committed(TopicPartition(topic, partition))
            if done is None or done <= offset:
                return False
        return True

    async def relayed() -> bool:
        unsent: int = await runtime.context.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return unsent == 0

    await eventually(committed, timeout=60, what="every record applied")
    await eventually(relayed, timeout=30, what="every staged event relayed")


async def publish_history(runtime: ServiceRuntime, events: list[tuple[str, Event[Any]]], rng: random.Random) -> None:
    """Publish shuffled within each topic (a delivery before its shipment, a reply first ...) and wait until applied."""
    shuffled = list(events)
    rng.shuffle(shuffled)
    await applied(runtime, await publish(runtime.settings, shuffled))


@pytest.fixture(scope="module")
async def history(metrics: ServiceRuntime) -> History:
    h = generate(SELLERS, END, seed=11)
    violation(h, SELLERS[0], f"V{RUN}-1", "listing", "medium", END - 40 * DAY)
    violation(h, SELLERS[0], f"V{RUN}-2", "listing", "high", END - 5 * DAY)  # a repeat: doubled
    violation(h, SELLERS[3], f"V{RUN}-crit", "review", "critical", END - 3 * DAY)
    violation(h, SELLERS[4], f"V{RUN}-res", "messaging", "high", END - 10 * DAY)
    appeal(h, SELLERS[4], f"AP{RUN}", [f"V{RUN}-res"], END - 2 * DAY)
    rng = random.Random(5)
    events = list(h.events)
    events += rng.sample(h.events, len(h.events) // 20)  # redelivered: the same event ids again
    await publish_history(metrics, events, rng)
    # Enforcement is decided at ticks: shuffled, the history's last tick may be applied before events it
    # follows. One more tick at the final now (the clock does not move) decides on everything, as the
    # next tick would in production.
    h.add(topics.CLOCK_EVENTS, ClockTicked(now=END), END, "clock", "clock")
    await applied(metrics, await publish(metrics.settings, h.events[-1:]))
    return h


def _events(h: History) -> list[Event[Any]]:
    return [e for _, e in h.events]


async def _card(runtime: ServiceRuntime, seller: str, as_of: datetime | None = None) -> dict[str, Any]:
    async with client(runtime) as http:
        params = {"as_of": as_of.isoformat()} if as_of else {}
        response = await http.get(f"/v1/sellers/{seller}/scorecard", params=params)
        assert response.status_code == 200, response.text
        card: dict[str, Any] = response.json()
        return card


def _rates(card: dict[str, Any]) -> dict[tuple[str, str | None, int], tuple[int, int]]:
    return {(m["name"], m["channel"], m["window_days"]): (m["numerator"], m["denominator"])
            for m in card["metrics"] if m["denominator"]}


async def test_every_scorecard_equals_the_reference_computed_from_the_raw_events(
    metrics: ServiceRuntime, history: History,
) -> None:
    events = _events(history)
    breaches = 0
    for seller in SELLERS:
        card = await _card(metrics, seller)
        assert card["as_of"].startswith("2026-03-20T15:00")
        assert _rates(card) == reference(events, seller, END), seller
        for days in (7, 30):
            orders, gross = reference_sales(events, seller, END, days)
            figures = card["sales"][f"{days}d"]
            assert (figures["orders"], Decimal(figures["gross_sales"].get("USD", "0"))) == (orders, gross)
        breaches += sum(m["breach"] for m in card["metrics"])
    assert breaches >= 2  # the history has sellers bad enough to be judged


async def test_every_past_day_is_the_reference_at_the_end_of_that_day(metrics: ServiceRuntime, history: History
                                                                      ) -> None:
    # `as_of=D` is what the live scorecard said at the end of day D: deadlines judged at the ticks up to then.
    for back in range(1, 46):
        day = (END - back * DAY).date()
        end_of_day = datetime.combine(day, time.max, tzinfo=UTC)
        for seller in SELLERS[:3]:
            card = await _card(metrics, seller, as_of=datetime.combine(day, time(8), tzinfo=UTC))
            assert card["day"] == day.isoformat()
            assert _rates(card) == reference(_events(history), seller, end_of_day), (seller, day)


async def _snapshot(db_: asyncpg.Pool | asyncpg.Connection) -> tuple[list[Any], list[Any], list[Any]]:
    buckets = await db_.fetch("SELECT seller_id, metric, attr_day, eff_day, num, den FROM buckets"
                              " WHERE num <> 0 OR den <> 0 ORDER BY 1, 2, 3, 4")
    items = await db_.fetch("SELECT seller_id, kind, item_id, facts::text, applied::text, next_at FROM items"
                            " ORDER BY 1, 2, 3")
    sellers = await db_.fetch("SELECT seller_id, rating, band, breaches FROM sellers ORDER BY 1")
    return [tuple(r) for r in buckets], [tuple(r) for r in items], [tuple(r) for r in sellers]


async def test_the_rebuild_from_the_topics_equals_the_live_state(
    metrics: ServiceRuntime, history: History, module_settings: Settings,
) -> None:
    assert module_settings.kafka_bootstrap_servers and module_settings.database_url
    dsn = module_settings.database_url.get_secret_value()
    other = module_settings.model_copy(update={"db_schema_prefix": f"{module_settings.db_schema_prefix}rb_"})
    report = await rebuild(other, bootstrap_servers=module_settings.kafka_bootstrap_servers, dsn=dsn,
                           idle_seconds=1.0, batch_size=700)  # other batch boundaries than the live consumer's
    assert report.applied == len({e.id for e in _events(history)})
    rebuilt = await db.create_pool(dsn, other.schema_for("metrics"), size=2)
    try:
        live = metrics.context.pool
        assert await _snapshot(rebuilt) == await _snapshot(live)
        now = await queries.moment(live, None)
        assert now is not None and now == await queries.moment(rebuilt, None)
        for seller in SELLERS:
            a, b = await queries.view(live, seller, now, full=True), await queries.view(rebuilt, seller, now, full=True)
            assert views.scorecard_json(seller, now, a.card, a.health, 180) == \
                views.scorecard_json(seller, now, b.card, b.health, 180)
    finally:
        await rebuilt.close()


async def test_duplicate_and_out_of_order_deliveries_change_nothing(metrics: ServiceRuntime, history: History) -> None:
    before = await _snapshot(metrics.context.pool)
    rng = random.Random(9)
    again = rng.sample(history.events, len(history.events) // 3)
    again.reverse()
    # The same facts under new event ids (a producer's retry after a lost acknowledgement): not counted twice.
    renewed = [(topic, new_event(e.data, seller_id=e.sellerid, subject=e.subject, time=e.time, source=e.source))
               for topic, e in again[:200] if topic != topics.CLOCK_EVENTS]
    await publish_history(metrics, again + renewed, rng)
    assert await _snapshot(metrics.context.pool) == before


async def _published(runtime: ServiceRuntime, event_type: str, seller: str) -> list[Event[Any]]:
    rows = await runtime.context.pool.fetch(
        "SELECT value FROM outbox WHERE event_type = $1 AND key = $2 ORDER BY id", event_type, seller)
    return [parse_event(bytes(r["value"]), topic=topics.METRICS_EVENTS) for r in rows]


async def test_breaches_restrict_and_a_critical_violation_suspends_with_what_is_behind_them(
    metrics: ServiceRuntime, history: History,
) -> None:
    decided = "sellerflow.seller.enforcement_decided.v1"
    suspended = await _published(metrics, decided, SELLERS[3])
    assert any(e.data.action is EnforcementAction.SUSPEND and f"V{RUN}-crit" in e.data.violation_ids
               for e in suspended)
    restricted = 0
    for seller in SELLERS:
        card = await _card(metrics, seller)
        restricting = {m["name"] for m in card["metrics"] if m["breach"]} & {
            "order_defect_rate", "late_shipment_rate", "pre_fulfillment_cancel_rate"}
        if not restricting or seller == SELLERS[3]:
            continue
        actions = [e.data for e in await _published(metrics, decided, seller)]
        restrict = [a for a in actions if a.action is EnforcementAction.RESTRICT]
        assert restrict, seller
        assert restrict[-1].defects and restrict[-1].metrics  # the defects and metrics behind it
        restricted += 1
    assert restricted >= 1


async def test_scorecards_and_health_are_published_only_when_they_change(
    metrics: ServiceRuntime, history: History,
) -> None:
    seller = SELLERS[0]
    updated = "sellerflow.seller.scorecard_updated.v1"
    count = len(await _published(metrics, updated, seller))
    assert count >= 1
    placed = next(e for _, e in history.events if e.sellerid == seller and isinstance(e.data, OrderPlaced))
    same_fact = new_event(placed.data, seller_id=seller, subject=placed.subject, time=placed.time, source="/retry")
    tick = new_event(ClockTicked(now=END), seller_id="clock", subject="clock", time=END, source="/test")
    await publish_history(metrics, [(topics.ORDER_EVENTS, same_fact), (topics.CLOCK_EVENTS, tick)], random.Random(2))
    assert len(await _published(metrics, updated, seller)) == count
    changes = await _published(metrics, "sellerflow.seller.health_changed.v1", seller)
    card = await _card(metrics, seller)
    if changes:
        assert changes[-1].data.new_band.value == card["band"]
        assert all(c.data.old_band != c.data.new_band for c in changes)


async def test_suspension_then_reinstatement_after_an_accepted_appeal(metrics: ServiceRuntime) -> None:
    seller = f"R{RUN}"
    h = History(END)
    violation(h, seller, f"V{RUN}-r", "listing", "critical", END - 2 * DAY)
    await publish_history(metrics, h.events, random.Random(1))
    decided = "sellerflow.seller.enforcement_decided.v1"

    async def action(wanted: EnforcementAction) -> bool:
        # Enforcement is decided on clock ticks: tick until the decision shows (a tick may be applied
        # before the events published just before it, which travel on other partitions).
        await publish_events(metrics.settings, topics.CLOCK_EVENTS, [tick(END)])
        return any(e.data.action is wanted for e in await _published(metrics, decided, seller))

    await eventually(lambda: action(EnforcementAction.SUSPEND), what="suspended")
    h = History(END)
    appeal(h, seller, f"AP{RUN}-r", [f"V{RUN}-r"], END - DAY)
    await publish_history(metrics, h.events, random.Random(1))
    await eventually(lambda: action(EnforcementAction.REINSTATE), what="reinstated")
    async with client(metrics) as http:
        health = (await http.get(f"/v1/sellers/{seller}/health")).json()
    assert (health["rating"], health["band"]) == (200, "healthy")
    assert [line["kind"] for line in health["history"]] == ["resolved"]


async def test_the_ledger_explains_every_point(metrics: ServiceRuntime, history: History) -> None:
    async with client(metrics) as http:
        health = (await http.get(f"/v1/sellers/{SELLERS[0]}/health")).json()
    assert sum(line["points"] for line in health["ledger"]) == health["rating"]
    repeat = next(line for line in health["ledger"] if line["violation_id"] == f"V{RUN}-2")
    assert (repeat["points"], repeat["repeat_of"]) == (-16, f"V{RUN}-1")


async def test_a_seller_sees_only_its_own_and_the_operator_ranks_the_sellers_at_risk(
    metrics: ServiceRuntime, history: History,
) -> None:
    secret = metrics.settings.auth_secret.get_secret_value()
    async with client(metrics, seller_token(secret, SELLERS[0])) as http:
        assert (await http.get(f"/v1/sellers/{SELLERS[0]}/scorecard")).status_code == 200
        assert (await http.get(f"/v1/sellers/{SELLERS[1]}/scorecard")).status_code == 403
        assert (await http.get(f"/v1/sellers/{SELLERS[1]}/defects")).status_code == 403
        assert (await http.get("/v1/sellers/at-risk")).status_code == 403
        http.headers.pop("Authorization")
        assert (await http.get(f"/v1/sellers/{SELLERS[0]}/health")).status_code == 401
    async with client(metrics) as http:
        ranked = (await http.get("/v1/sellers/at-risk")).json()
    ratings = [r["rating"] for r in ranked]
    assert ratings == sorted(ratings)
    assert ranked[0]["seller_id"] == SELLERS[3] and ranked[0]["rating"] == 0


async def test_the_drill_down_lists_every_order_behind_a_rate(metrics: ServiceRuntime, history: History) -> None:
    for seller in SELLERS:
        async with client(metrics) as http:
            body = (await http.get(f"/v1/sellers/{seller}/defects", params={"metric": "order_defect_rate"})).json()
        for group in body["metrics"]:
            assert len(group["items"]) == group["numerator"]
            for item in group["items"]:
                attributed = datetime.fromisoformat(item["attributed_on"]).date()
                assert datetime.fromisoformat(item["leaves_window_on"]).date() == attributed + 60 * DAY


PAGE_HEADERS = {"referrer-policy": "no-referrer", "cache-control": "no-store", "x-content-type-options": "nosniff"}


def _browser(metrics: ServiceRuntime) -> httpx.AsyncClient:
    """A browser: no Authorization header, keeps cookies, does not follow redirects."""
    app = create_http_app(metrics, manage_lifecycle=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


def _secured_page(response: httpx.Response) -> None:
    assert {k: response.headers.get(k) for k in PAGE_HEADERS} == PAGE_HEADERS
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_the_dashboard_signs_a_seller_in_with_a_posted_token_kept_in_a_strict_cookie(
    metrics: ServiceRuntime, history: History,
) -> None:
    secret = metrics.settings.auth_secret.get_secret_value()
    seller = SELLERS[2]
    token = seller_token(secret, seller)
    async with _browser(metrics) as browser:
        asked = await browser.get(f"/dashboard/{seller}")
        assert asked.status_code == 401 and 'method="post"' in asked.text and 'name="token"' in asked.text
        _secured_page(asked)
        signed_in = await browser.post("/dashboard/sign-in", data={"token": token, "next": f"/dashboard/{seller}"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == f"/dashboard/{seller}"
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
        page = await browser.get(signed_in.headers["location"])
        assert page.status_code == 200 and "Account health" in page.text and "<svg" in page.text
        assert "https://" not in page.text  # nothing from the internet
        assert token not in page.text and "token=" not in str(page.url)
        _secured_page(page)
        other = await browser.get(f"/dashboard/{SELLERS[1]}")
        assert other.status_code == 403 and "Account health" not in other.text
        signed_out = await browser.post("/dashboard/sign-out")
        assert signed_out.status_code == 303 and not browser.cookies.get("sellerflow_session")
        assert (await browser.get(f"/dashboard/{seller}")).status_code == 401


async def test_the_dashboard_refuses_an_expired_token_and_a_sign_in_posted_from_another_site(
    metrics: ServiceRuntime, history: History,
) -> None:
    secret = metrics.settings.auth_secret.get_secret_value()
    seller = SELLERS[2]
    expired = issue_token(secret, Principal("seller", seller), ttl=timedelta(hours=1),
                          now=datetime.now(UTC) - timedelta(hours=2))
    async with _browser(metrics) as browser:
        refused = await browser.post("/dashboard/sign-in", data={"token": expired})
        assert refused.status_code == 401 and "set-cookie" not in refused.headers
        _secured_page(refused)
        foreign = await browser.post("/dashboard/sign-in", data={"token": seller_token(secret, seller)},
                                     headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
        elsewhere = await browser.post("/dashboard/sign-in", data={"token": seller_token(secret, seller),
                                                                   "next": "https://evil.example/x"})
        assert elsewhere.headers["location"] == "/dashboard"


async def test_an_unknown_seller_has_no_scorecard(metrics: ServiceRuntime, history: History) -> None:
    async with client(metrics) as http:
        for path in ("scorecard", "health", "defects"):
            missing = await http.get(f"/v1/sellers/NOPE-{RUN}/{path}")
            assert missing.status_code == 404 and missing.json()["detail"] == f"no seller NOPE-{RUN}"


async def test_when_the_day_turns_sellers_whose_windows_moved_are_republished(
    metrics: ServiceRuntime, history: History,
) -> None:
    # Runs last: it moves the business clock a day past END.
    seller = f"W{RUN}"
    order = next(e.data for e in _events(history) if isinstance(e.data, OrderPlaced))
    placed = order.model_copy(update={"order_id": f"W{RUN}-O", "purchased_at": END - 59 * DAY,
                                      "fulfillment_channel": FulfillmentChannel.MERCHANT})
    event = new_event(placed, seller_id=seller, subject=placed.order_id, time=placed.purchased_at, source="/test")
    await publish_history(metrics, [(topics.ORDER_EVENTS, event)], random.Random(3))
    assert _rates(await _card(metrics, seller))[("order_defect_rate", "merchant", 60)] == (0, 1)
    tomorrow = END + DAY
    tick = new_event(ClockTicked(now=tomorrow), seller_id="clock", subject="clock", time=tomorrow, source="/test")
    await publish_history(metrics, [(topics.CLOCK_EVENTS, tick)], random.Random(4))
    last = (await _published(metrics, "sellerflow.seller.scorecard_updated.v1", seller))[-1].data
    assert last.as_of == tomorrow
    odr = next(m for m in last.metrics if m.name.value == "order_defect_rate" and m.channel.value == "merchant")
    assert odr.denominator == 0  # the order left the window: published although no event of the seller came
    pool = metrics.context.pool
    for s in [*SELLERS, seller]:  # what was last published is what the scorecard says now
        view = await queries.view(pool, s, tomorrow)
        stored = await pool.fetchval("SELECT scorecard_digest FROM sellers WHERE seller_id = $1", s)
        assert stored == views.digest(view.card, view.health), s
