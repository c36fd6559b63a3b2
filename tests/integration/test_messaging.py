"""The never-lose-a-message contract, against the real broker and PostgreSQL (design.md section 6)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from sellerflow import dlq
from sellerflow.dlq import read_dead_letters
from shared.events import topics
from shared.messaging import dead_letters as dl
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.integration import probe
from tests.support.factories import checkout_order, unique
from tests.support.kafka import eventually, publish, publish_events, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def probe_service(settings: Settings) -> AsyncIterator[ServiceRuntime]:
    settings = settings.model_copy(update={"consumer_max_transient_wait": 0.3})
    assert settings.kafka_bootstrap_servers and settings.database_url
    runtime = ServiceRuntime(probe.SPEC, settings, bootstrap_servers=settings.kafka_bootstrap_servers,
                             dsn=settings.database_url.get_secret_value())
    probe.FAULTS.transient = 0
    async with runtime.running():
        yield runtime


async def applied(runtime: ServiceRuntime, order_id: str) -> int:
    count: int = await runtime.context.pool.fetchval("SELECT count(*) FROM applied WHERE order_id = $1", order_id)
    return count


async def test_a_redelivered_event_is_applied_once(probe_service: ServiceRuntime) -> None:
    settings = probe_service.settings
    event = checkout_order("S-dup")
    order_id = event.data.order_id
    await publish_events(settings, topics.INGRESS_ORDERS, [event, event])
    await eventually(lambda: _at_least(probe_service, order_id, 1), what="the event applied")
    marker = checkout_order("S-dup")  # same seller, same partition: once it is applied, the duplicate was seen
    await publish_events(settings, topics.INGRESS_ORDERS, [event, marker])
    await eventually(lambda: _at_least(probe_service, marker.data.order_id, 1), what="the marker applied")
    assert await applied(probe_service, order_id) == 1


async def _at_least(runtime: ServiceRuntime, order_id: str, n: int) -> bool:
    return await applied(runtime, order_id) >= n


async def test_a_poison_message_is_dead_lettered_with_its_headers_and_the_next_one_is_handled(
    probe_service: ServiceRuntime,
) -> None:
    settings = probe_service.settings
    poison = b'{"specversion": "1.0", "not": "an event"'
    refused = checkout_order("S-poison", unique("refuse"))
    good = checkout_order("S-poison")
    await publish(settings, topics.INGRESS_ORDERS, [(b"S-poison", poison), (refused.key, refused.to_bytes()),
                                                   (good.key, good.to_bytes())])
    await eventually(lambda: _at_least(probe_service, good.data.order_id, 1), what="the good order applied")

    letters = await read_topic(settings, topics.dlq_topic(topics.INGRESS_ORDERS), expect=2)
    assert len(letters) == 2
    by_value = {r.value: dict((k, v.decode()) for k, v in r.headers) for r in letters}
    assert set(by_value) == {poison, refused.to_bytes()}  # the original bytes, unchanged
    bad = by_value[poison]
    assert bad[dl.H_ERROR_TYPE] == "InvalidEvent"
    assert "JSON" in bad[dl.H_ERROR_MESSAGE]
    assert bad[dl.H_TOPIC] == settings.topic(topics.INGRESS_ORDERS)
    assert bad[dl.H_GROUP] == f"{settings.topic_prefix}probe"
    assert int(bad[dl.H_OFFSET]) >= 0 and int(bad[dl.H_PARTITION]) >= 0
    refusal = by_value[refused.to_bytes()]
    assert refusal[dl.H_ERROR_TYPE] == "Unprocessable"
    assert "refuse" in refusal[dl.H_ERROR_MESSAGE]
    assert await applied(probe_service, refused.data.order_id) == 0


async def test_a_failing_transaction_leaves_the_offset_uncommitted_and_applies_after_recovery(
    probe_service: ServiceRuntime,
) -> None:
    settings = probe_service.settings
    probe.FAULTS.transient = 10_000  # the database is "down" for this order until we say otherwise
    flaky = checkout_order("S-flaky", unique("flaky"))
    await publish_events(settings, topics.INGRESS_ORDERS, [flaky])
    await eventually(_faults_seen, what="the handler tried and failed")
    # The batch failed for longer than the transient wait: handed back, fetched again, never committed.
    offset = await _committed_offset(settings, settings.topic(topics.INGRESS_ORDERS))
    assert await applied(probe_service, flaky.data.order_id) == 0
    probe.FAULTS.transient = 0  # the database is back
    await eventually(lambda: _at_least(probe_service, flaky.data.order_id, 1), what="applied after recovery")
    await eventually(lambda: _committed_beyond(settings, offset), what="offset committed after the commit")
    assert await applied(probe_service, flaky.data.order_id) == 1
    letters = await read_dead_letters(settings, settings.kafka_bootstrap_servers or "", [topics.INGRESS_ORDERS])
    assert not letters, "a transient failure is never dead-lettered"


async def _faults_seen() -> bool:
    return probe.FAULTS.transient < 9_990


async def _group_offsets(settings: Settings, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        offsets = await admin.list_consumer_group_offsets(f"{settings.topic_prefix}probe", partitions=parts)
        return {tp.partition: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


async def _committed_offset(settings: Settings, topic: str) -> int:
    return sum(max(o, 0) for o in (await _group_offsets(settings, topic)).values())


async def _committed_beyond(settings: Settings, before: int) -> bool:
    return await _committed_offset(settings, settings.topic(topics.INGRESS_ORDERS)) > before


async def test_dlq_replay_re_drives_a_fixed_message(probe_service: ServiceRuntime) -> None:
    settings = probe_service.settings
    good = checkout_order("S-replay")
    broken = json.loads(good.to_bytes())
    broken["data"]["lines"][0]["quantity"] = -1  # impossible: refused at the door
    await publish(settings, topics.INGRESS_ORDERS, [(good.key, json.dumps(broken).encode())])

    async def dead_lettered() -> bool:
        return len(await dlq.list_letters(settings, ["probe"])) == 1

    await eventually(dead_lettered, what="the broken order dead-lettered")
    [letter] = await dlq.list_letters(settings, ["probe"])
    assert "quantity" in letter.entry.reason
    replayed = await dlq.replay_one(settings, f"probe/{letter.entry.id}", by="ops", body=good.to_bytes())
    assert replayed.entry.status == "replayed"
    await eventually(lambda: _at_least(probe_service, good.data.order_id, 1), what="the fixed order applied")


async def test_progress_reports_idle_only_once_every_record_is_applied_and_relayed(
    probe_service: ServiceRuntime,
) -> None:
    settings = probe_service.settings
    events = [checkout_order("S-progress") for _ in range(300)] + [checkout_order("S-progress", unique("refuse"))]
    await publish_events(settings, topics.INGRESS_ORDERS, events)

    async def idle() -> bool:
        # Idle twice, 200 ms apart, with no batch applied between: a consumer re-fetches every
        # ~20 ms, so a highwater stale from before the publish cannot pass both looks.
        first = await probe_service.progress()
        await asyncio.sleep(0.2)
        second = await probe_service.progress()
        return all((p["consumer_lag"], p["batches_in_flight"], p["outbox_unsent"]) == (0, 0, 0)
                   for p in (first, second)) and first["batches_applied"] == second["batches_applied"]

    await eventually(idle, what="the probe idle")
    # Idle means done: every order applied, the refused one's dead letter already relayed.
    applied_now: int = await probe_service.context.pool.fetchval(
        "SELECT count(*) FROM applied WHERE order_id = ANY($1::text[])", [e.data.order_id for e in events]
    )
    assert applied_now == 300
    assert (await probe_service.progress())["batches_applied"] >= 1


async def test_progress_never_looks_idle_when_a_batch_ends_while_it_counts_the_outbox(
    probe_service: ServiceRuntime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outbox query takes its snapshot, a batch commits (its dead letter staged after that snapshot),
    then the report is assembled: it must not say everything consumed, nothing unsent and nothing
    relayed, the false idle that let the simulator tick before a dead letter or an event was relayed."""
    import shared.runtime

    settings = probe_service.settings
    processor = probe_service._processor
    assert processor is not None
    real_unsent = shared.runtime.unsent_count
    before = processor.batches

    async def unsent_then_the_batch_ends(pool: object) -> int:
        snapshot = await real_unsent(pool)  # type: ignore[arg-type]
        await eventually(lambda: _after(processor.batches, before), what="the batch applied")
        return snapshot

    event = checkout_order("S-race", unique("refuse"))
    await publish_events(settings, topics.INGRESS_ORDERS, [event])
    monkeypatch.setattr(shared.runtime, "unsent_count", unsent_then_the_batch_ends)
    report = await probe_service.progress()
    monkeypatch.undo()
    everything_consumed = report["consumed"].get(topics.INGRESS_ORDERS, 0) >= 1
    quiet = (report["batches_in_flight"], report["outbox_unsent"], report.get("relaying", False)) == (0, 0, False)
    relayed = sum(report["published"].values()) >= 1  # the dead letter
    assert not (everything_consumed and quiet and not relayed), report


async def _after(now: int, before: int) -> bool:
    return now > before
