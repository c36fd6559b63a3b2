"""The public doors hold (design.md section 3): hostile messages, interleaved with valid orders and their
follow-ups, go through a real broker and all five services. Each hostile one gets its documented
outcome (on its topic's `.dlq` once with a reason, applied harmlessly, skipped as a duplicate, or an
order rejected for an unknown seller); every valid one is applied exactly once; no service restarts;
every consumer catches up; and an unrelated seller's scorecard is what it was.

One platform and one run for the module (`run`); the tests read what the run left behind. The messages
go out through aiokafka and confluent-kafka (librdkafka, murmur2_random), some made with the official
CloudEvents SDK in binary and structured mode.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.events import topics
from shared.messaging.dead_letters import H_ERROR_MESSAGE
from shared.runtime import ServiceRuntime
from shared.settings import SERVICE_NAMES, Settings
from tests.support.hostile import CASE_HEADER, ORDERS, HostileCase, Outcome, Probe, encode
from tests.support.hostile_cases import hostile_cases, size_cases
from tests.support.hostile_world import STOCK, VALID_HEADER, World, pages, set_up
from tests.support.kafka import read_topic
from tests.support.outside import consumed, progress, send_all, wait_drained
from tests.support.platform import client, running

pytestmark = pytest.mark.e2e

WORLD = World(uuid.uuid4().hex[:6])
CASES = hostile_cases(WORLD.targets())
SIZED = size_cases(WORLD.targets())  # sent last, with an order behind them that must get through
AFTER_SIZED = WORLD.order(WORLD.seller, f"VO-after-{WORLD.tag}", WORLD.skus["valid"], WORLD.placed_at)
VALID = WORLD.valid_traffic()


@dataclass
class Run:
    """What the run left behind, read back through the services' HTTP APIs and the .dlq topics."""

    letters: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))  # case -> headers
    valid_letters: list[str] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    listings: dict[str, dict[str, Any]] = field(default_factory=dict)  # SKU name -> listing
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)  # order id -> its shipment
    standing_before: dict[str, Any] = field(default_factory=dict)
    standing_after: dict[str, Any] = field(default_factory=dict)
    runtimes_before: dict[str, ServiceRuntime] = field(default_factory=dict)
    runtimes_after: dict[str, ServiceRuntime] = field(default_factory=dict)
    ready_after: dict[str, int] = field(default_factory=dict)
    progress_after: dict[str, dict[str, Any]] = field(default_factory=dict)
    sized_drained: bool = False
    after_sized: dict[str, Any] | None = None


@pytest.fixture(scope="module")
async def run(module_settings: Settings) -> Any:
    async with running(module_settings, SERVICE_NAMES) as runtimes:
        http = {name: client(runtime) for name, runtime in runtimes.items()}
        try:
            yield await _run(module_settings, runtimes, http)
        finally:
            await asyncio.gather(*(c.aclose() for c in http.values()))


async def _run(settings: Settings, runtimes: dict[str, ServiceRuntime], http: dict[str, httpx.AsyncClient]) -> Run:
    result = Run(runtimes_before=dict(runtimes))
    listing_ids = await set_up(settings, http, WORLD)
    result.standing_before = await _standing(http, WORLD.unrelated)

    before = await progress(http)
    mixed: list[Any] = [*CASES, *VALID]
    random.Random(11).shuffle(mixed)
    await send_all(settings, mixed)
    sent = Counter(m.topic for m in mixed)
    after = (await wait_drained(http, at_least={t: consumed(before, t) + n for t, n in sent.items()})).report
    result.progress_after = after

    for topic in topics.INGRESS_TOPICS:
        dlq = topics.dlq_topic(topic)
        letters = sum(service["published"].get(dlq, 0) for service in after.values())
        for record in await read_topic(settings, dlq, expect=letters, timeout=30):
            headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
            if CASE_HEADER in headers:
                result.letters[headers[CASE_HEADER]].append(headers)
            elif VALID_HEADER in headers:
                result.valid_letters.append(headers[VALID_HEADER])
    for seller in (WORLD.seller, WORLD.other, WORLD.unrelated, WORLD.unknown):
        result.orders.update({o["order_id"]: o for o in await pages(http["order"], "/v1/orders", seller)})
        result.messages.update({m["message_id"]: m for m in await pages(http["aftersales"], "/v1/messages", seller)})
    for name, listing_id in listing_ids.items():
        result.listings[name] = (await http["listing"].get(f"/v1/listings/{listing_id}")).json()
    for order_id in WORLD.shipped:
        [result.shipments[order_id]] = (await http["fulfillment"].get(
            f"/v1/orders/{order_id}/shipments", params={"seller_id": WORLD.seller})).json()
    result.standing_after = await _standing(http, WORLD.unrelated)
    result.runtimes_after = dict(runtimes)
    result.ready_after = {name: (await c.get("/readyz")).status_code for name, c in http.items()}
    await _around_1_mib(settings, http, result)
    return result


async def _around_1_mib(settings: Settings, http: dict[str, httpx.AsyncClient], result: Run) -> None:
    """The messages around 1 MiB, then a valid order behind them: its effects must get through."""
    before = await progress(http)
    await send_all(settings, [*SIZED, _Raw(ORDERS, WORLD.seller.encode(), encode(AFTER_SIZED))])
    try:
        await wait_drained(http, at_least={ORDERS: consumed(before, ORDERS) + len(SIZED) + 1}, timeout=60)
        result.sized_drained = True
    except AssertionError:
        result.sized_drained = False
    dlq = topics.dlq_topic(ORDERS)
    published = sum(service["published"].get(dlq, 0) for service in (await progress(http)).values())
    for record in await read_topic(settings, dlq, expect=published, timeout=10):
        headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
        # A letter too big to carry whole carries a preview (the start of the original) and no other header.
        case = headers.get(CASE_HEADER) or next(
            (c.name for c in SIZED if record.value and c.value and c.value.startswith(record.value)), None)
        if case in {c.name for c in SIZED}:
            result.letters[case].append(headers)
    order_id = AFTER_SIZED["data"]["order_id"]
    answer = await http["order"].get(f"/v1/orders/{order_id}", params={"seller_id": WORLD.seller})
    result.after_sized = answer.json() if answer.status_code == 200 else None


async def _standing(http: dict[str, httpx.AsyncClient], seller: str) -> dict[str, Any]:
    """Every service's business clock, and the seller's scorecard and health, unless the metrics clock
    was moved (a scorecard at year 9999 takes minutes to compute; the moved clock says enough)."""
    clocks = {name: report["business_now"] for name, report in (await progress(http)).items()}
    standing: dict[str, Any] = {"clocks": clocks}
    if clocks["metrics"] == WORLD.now.isoformat().replace("+00:00", "Z"):
        standing["scorecard"] = (await http["metrics"].get(f"/v1/sellers/{seller}/scorecard")).json()
        standing["health"] = (await http["metrics"].get(f"/v1/sellers/{seller}/health")).json()
    return standing


# --- what the run must have done ---------------------------------------------------------------------


def _param(case: HostileCase) -> Any:
    marks = [pytest.mark.xfail(strict=False, reason=f"lands with {case.awaits}")] if case.awaits else []
    return pytest.param(case, id=case.name, marks=marks)


def test_the_generator_makes_at_least_150_kinds_of_hostile_message_on_every_ingress_topic() -> None:
    cases = [*CASES, *size_cases(WORLD.targets())]
    assert len(cases) >= 150
    assert {c.topic for c in cases} == set(topics.INGRESS_TOPICS)
    assert {c.made_with for c in cases} == {"json", "cloudevents"}
    assert set(Outcome) == {c.outcome for c in cases}


@pytest.mark.parametrize("case", [_param(c) for c in [*CASES, *SIZED]])
async def test_each_hostile_message_gets_its_documented_outcome(run: Run, case: HostileCase) -> None:
    letters = run.letters.get(case.name, [])
    if case.outcome is Outcome.DEAD_LETTERED:
        assert len(letters) == 1, f"dead-lettered {len(letters)} times"
        reason = letters[0].get(H_ERROR_MESSAGE, "")
        assert reason.strip(), "a dead letter names its reason"
        assert "Error: " not in reason, f"a reason a person can act on, not a raw exception: {reason}"
    else:
        assert not letters, f"{case.outcome} but dead-lettered: {letters[0].get(H_ERROR_MESSAGE)}"
    if case.probe is not None:
        _check(run, case.probe)


def _check(run: Run, probe: Probe) -> None:
    view = (run.orders if probe.kind == "order" else run.messages).get(probe.id)
    if probe.expect is None:
        assert view is None, f"a refused message left {probe.kind} {probe.id} behind"
        return
    assert view is not None, f"no {probe.kind} {probe.id}"
    for name, expected in probe.expect.items():
        actual = view[name]
        if name == "total":
            actual, expected = Decimal(actual), Decimal(expected)
        elif hasattr(expected, "isoformat"):
            actual, expected = actual.replace("Z", "+00:00"), expected.isoformat()
        assert actual == expected, f"{probe.kind} {probe.id}: {name} is {actual!r}, not {expected!r}"


def test_every_valid_order_message_scan_and_cancellation_is_applied_exactly_once(run: Run) -> None:
    plain = [v for v in VALID if not v.sdk]
    assert not [name for name in run.valid_letters if not name.startswith("sdk-")], "valid messages dead-lettered"
    for message in plain:
        if message.probe is not None:
            _check(run, message.probe)
    # Exactly once: each listing's reservations are the units of its valid orders, no more.
    for name in ("valid", "other"):
        ordered = sum(v.quantity for v in plain if v.topic == ORDERS and _sku_of(v) == WORLD.skus[name])
        assert (run.listings[name]["reserved"], run.listings[name]["quantity"]) == (ordered, STOCK - ordered)
    delivered, in_transit = WORLD.shipped[3::2], WORLD.shipped[4::2]
    assert all(run.shipments[o]["delivered_at"] for o in delivered)
    assert not any(run.shipments[o]["delivered_at"] for o in in_transit)
    assert all(run.shipments[o]["tracking_status"] == "valid" for o in [*delivered, *in_transit])
    assert all(run.orders[o]["status"] == "delivered" for o in delivered)


def _sku_of(message: Any) -> str | None:
    data = json.loads(message.value)["data"]
    return data["lines"][0]["sku"] if "lines" in data else None


def test_valid_messages_from_the_official_cloudevents_sdk_are_applied_exactly_once_in_both_modes(run: Run) -> None:
    sdk = [v for v in VALID if v.sdk]
    assert not run.valid_letters, f"dead-lettered: {run.valid_letters}"
    for message in sdk:
        assert message.probe is not None
        _check(run, message.probe)
    ordered = sum(v.quantity for v in sdk)
    assert (run.listings["sdk"]["reserved"], run.listings["sdk"]["quantity"]) == (ordered, STOCK - ordered)


def test_no_service_restarted_and_every_consumer_caught_up(run: Run) -> None:
    assert all(run.runtimes_after[name] is runtime for name, runtime in run.runtimes_before.items())
    assert all(runtime.ready for runtime in run.runtimes_after.values())
    assert run.ready_after == dict.fromkeys(SERVICE_NAMES, 200)
    assert all(p["consumer_lag"] == 0 and p["outbox_unsent"] == 0 for p in run.progress_after.values())


def test_the_hostile_traffic_moves_no_clock_and_leaves_an_unrelated_sellers_scorecard_unchanged(run: Run) -> None:
    assert run.standing_before["scorecard"]["sales"], "the unrelated seller has sales to lose"
    assert run.standing_after == run.standing_before


def test_refused_orders_reserve_no_stock(run: Run) -> None:
    """The hostile listing holds the seller's earlier orders and the orders applied by design, no more."""
    applied = {c.probe.id for c in CASES if c.topic == ORDERS and c.outcome is Outcome.APPLIED and c.probe
               and run.orders.get(c.probe.id, {}).get("seller_id") == WORLD.seller}
    earlier = 1 + len(WORLD.shipped) + len(WORLD.hostile_open) + len(WORLD.valid_open)
    stray = sorted(o for o, view in run.orders.items() if view["seller_id"] == WORLD.seller
                   and o.startswith(f"HO-{WORLD.tag}-") and o not in applied)
    assert not stray, "refused orders were stored"
    listing = run.listings["hostile"]
    assert listing["reserved"] + listing["quantity"] + len(WORLD.shipped) == STOCK
    assert listing["quantity"] == STOCK - earlier - len(applied)


def test_after_the_messages_around_1_mib_the_order_service_goes_on(run: Run) -> None:
    assert run.after_sized is not None and run.after_sized["status"] == "unshipped", run.after_sized
    assert run.sized_drained, "every service drained after the messages around 1 MiB"


@dataclass(frozen=True)
class _Raw:
    """A message as it is: no case, no expectations."""

    topic: str
    key: bytes | None
    value: bytes | None

    def all_headers(self) -> list[tuple[str, bytes | None]]:
        return []
