"""Bounded dead letters and the dead-letter ledger, through a running service (design.md section 6).

One probe service for the module (a consumer-group join costs seconds): oversized poison on its
ingress topic, then the operator's list, replay and resolve through the CLI's functions (the
database) and the service's operator HTTP API.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from click.testing import Result
from typer.testing import CliRunner

from sellerflow import cli, dlq
from shared import db
from shared.auth import operator_token, seller_token
from shared.events import Event, parse_event, topics
from shared.events.order import OrderPlaced
from shared.messaging import dead_letters as dl
from shared.messaging import ledger
from shared.messaging.consumer import Record
from shared.runtime import ServiceRuntime, create_http_app
from shared.settings import Settings, get_settings
from tests.integration import probe
from tests.support.factories import checkout_order, unique
from tests.support.kafka import eventually, publish_events, read_topic
from tests.support.platform import running

pytestmark = pytest.mark.integration

MIB = 1_048_576
SERVICES = ["probe"]


@pytest.fixture(scope="module")
async def service(module_settings: Settings) -> AsyncIterator[ServiceRuntime]:
    assert module_settings.kafka_bootstrap_servers and module_settings.database_url
    runtime = ServiceRuntime(probe.SPEC, module_settings, bootstrap_servers=module_settings.kafka_bootstrap_servers,
                             dsn=module_settings.database_url.get_secret_value())
    async with runtime.running():
        yield runtime


@pytest.fixture
async def api(service: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_http_app(service, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        yield client


def operator(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {operator_token(settings.auth_secret.get_secret_value())}"}


def padded(event: Event[Any], size: int) -> bytes:
    """The event as JSON of exactly `size` bytes: invalid only by an unknown padding field."""
    body = json.loads(event.to_bytes())
    body["padding"] = ""
    bare = len(json.dumps(body).encode())
    body["padding"] = "x" * (size - bare)
    value = json.dumps(body).encode()
    assert len(value) == size
    return value


async def publish_large(settings: Settings, messages: list[tuple[bytes, bytes]]) -> None:
    """Like the other systems' producers: one that lets records of up to 2 MiB through."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
                                max_request_size=2 * MIB)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(settings.topic(topics.INGRESS_ORDERS), value, key=key)
    finally:
        await producer.stop()


async def applied(runtime: ServiceRuntime, order_id: str) -> int:
    count: int = await runtime.context.pool.fetchval("SELECT count(*) FROM applied WHERE order_id = $1", order_id)
    return count


async def test_oversized_poison_is_kept_whole_in_the_ledger_its_dlq_record_is_bounded_and_the_rest_flows(
    service: ServiceRuntime, api: httpx.AsyncClient,
) -> None:
    settings = service.settings
    seller = unique("S-big")
    over = padded(checkout_order(seller), MIB + 2_000)  # over the documented 1 MiB
    under = padded(checkout_order(seller), 1_048_300)  # under it: its dead letter with headers is not
    valid = [checkout_order(seller) for _ in range(3)]
    await publish_large(settings, [(seller.encode(), over), (seller.encode(), under)]
                        + [(e.key, e.to_bytes()) for e in valid])
    for event in valid:
        await eventually(lambda e=event: _applied_once(service, e.data.order_id), timeout=60, what="valid applied")

    records = await read_topic(settings, topics.dlq_topic(topics.INGRESS_ORDERS), expect=2, timeout=60)
    assert len(records) == 2
    schema = settings.schema_for("probe")
    async with service.context.pool.acquire() as conn:
        kept = {row["id"]: bytes(row["value"]) for row in await conn.fetch("SELECT id, value FROM dead_letters")}
    assert sorted(len(v) for v in kept.values()) == [1_048_300, MIB + 2_000]  # the originals, whole
    for record in records:
        headers = {k: v.decode() for k, v in record.headers}
        assert len(record.value or b"") == dl.PREVIEW_BYTES and headers[dl.H_TRUNCATED] == "true"
        ref_schema, _, ref_id = headers[dl.H_REF].partition("/")
        assert ref_schema == schema
        original = kept[int(ref_id)]
        assert record.value == original[: dl.PREVIEW_BYTES]
        assert headers[dl.H_SIZE] == str(len(original))
        assert ("over the limit" if len(original) > MIB else "padding") in headers[dl.H_ERROR_MESSAGE]

    # The relay was never blocked: a later dead letter, small, goes out whole right behind them.
    refused = checkout_order(seller, unique("refuse"))
    await publish_events(settings, topics.INGRESS_ORDERS, [refused])
    records = await read_topic(settings, topics.dlq_topic(topics.INGRESS_ORDERS), expect=3, timeout=60)
    assert len(records) == 3 and refused.to_bytes() in {r.value for r in records}  # whole, unchanged

    # The operator sees them in the ledger, and resolves the oversized pair (nothing to replay).
    listed = (await api.get("/v1/ops/dead-letters", headers=operator(settings))).json()
    big = [entry for entry in listed if entry["truncated"]]
    assert len(big) == 2 and all(entry["status"] == "outstanding" for entry in big)
    [over_limit] = [entry for entry in big if entry["size_bytes"] > MIB]
    too_big = await api.post(f"/v1/ops/dead-letters/{over_limit['id']}/replay", headers=operator(settings),
                             json={"by": "ada"})
    assert too_big.status_code == 422 and "fixed body" in too_big.json()["detail"]  # the relay could not send it
    for entry in big:
        response = await api.post(f"/v1/ops/dead-letters/{entry['id']}/resolve", headers=operator(settings),
                                  json={"by": "ada", "note": "the sender was told; too large to replay"})
        assert response.status_code == 200 and response.json()["status"] == "resolved"
    for entry in await dlq.list_letters(settings, SERVICES, topic=topics.INGRESS_ORDERS):
        if entry.entry.key == seller:
            await dlq.resolve_one(settings, f"probe/{entry.entry.id}", by="ada", note="refused by design")


async def _applied_once(runtime: ServiceRuntime, order_id: str) -> bool:
    return await applied(runtime, order_id) == 1


async def test_replay_all_twice_re_drives_each_outstanding_letter_once_and_resolve_closes_one_unreplayed(
    service: ServiceRuntime, api: httpx.AsyncClient,
) -> None:
    settings = service.settings
    seller = unique("S-ledger")
    probe.FAULTS.picky = True  # the handler bug: picky orders are refused
    picky = [checkout_order(seller, unique("picky")) for _ in range(4)]
    await publish_events(settings, topics.INGRESS_ORDERS, picky)

    async def all_dead_lettered() -> bool:
        letters = await dlq.list_letters(settings, SERVICES, topic=topics.INGRESS_ORDERS)
        return sum(letter.entry.key == seller for letter in letters) == 4

    await eventually(all_dead_lettered, timeout=60, what="four letters outstanding")
    letters = [x for x in await dlq.list_letters(settings, SERVICES) if x.entry.key == seller]
    assert [x.entry.status for x in letters] == ["outstanding"] * 4
    fixed_one, resolved_one = letters[0], letters[1]

    # One is resolved without a replay; one is replayed by hand with a fixed body, over HTTP.
    resolved = await dlq.resolve_one(settings, f"probe/{resolved_one.entry.id}", by="ada", note="a test order")
    assert (resolved.entry.status, resolved.entry.handled_by) == ("resolved", "ada")
    assert resolved.entry.note == "a test order"
    fixed = checkout_order(seller, unique("fixed"))
    response = await api.post(f"/v1/ops/dead-letters/{fixed_one.entry.id}/replay", headers=operator(settings),
                              json={"by": "bob", "body_base64": base64.b64encode(fixed.to_bytes()).decode()})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "replayed" and response.json()["handled_by"] == "bob"
    again = await api.post(f"/v1/ops/dead-letters/{fixed_one.entry.id}/replay", headers=operator(settings),
                           json={"by": "bob"})
    assert again.status_code == 409
    await eventually(lambda: _applied_once(service, fixed.data.order_id), timeout=60, what="the fixed order applied")

    probe.FAULTS.picky = False  # the handler is fixed: the two left are re-driven, each once
    first, too_large = await dlq.replay_outstanding(settings, SERVICES, by="cy", note="handler fixed")
    second, _ = await dlq.replay_outstanding(settings, SERVICES, by="cy")
    assert sorted(x.entry.id for x in first) == sorted(x.entry.id for x in letters[2:])
    assert second == [] and too_large == []
    for event in picky[2:]:
        await eventually(lambda e=event: _applied_once(service, e.data.order_id), timeout=60, what="replayed applied")
    # The topic holds each original once, plus one re-drive per replayed letter: 4 + 1 fixed + 2.
    mine: list[int] = []

    async def seven_arrived() -> bool:
        records = await read_topic(settings, topics.INGRESS_ORDERS, expect=1, timeout=10)
        mine[:] = [r.offset for r in records if r.key == seller.encode()]
        return len(mine) >= 7

    await eventually(seven_arrived, timeout=60, what="the originals and the re-drives on the topic")
    assert len(mine) == 7
    assert await applied(service, picky[0].data.order_id) == 0  # replaced by the fixed body
    assert await applied(service, picky[1].data.order_id) == 0  # resolved, never replayed

    statuses = {x.entry.id: (x.entry.status, x.entry.handled_by) for x in
                await dlq.list_letters(settings, SERVICES, status=None) if x.entry.key == seller}
    assert sorted(statuses.values()) == [("replayed", "bob"), ("replayed", "cy"), ("replayed", "cy"),
                                         ("resolved", "ada")]
    assert [x for x in await dlq.list_letters(settings, SERVICES) if x.entry.key == seller] == []


async def test_the_operator_api_refuses_sellers_and_unknown_letters(service: ServiceRuntime, api: httpx.AsyncClient
                                                                    ) -> None:
    settings = service.settings
    seller = {"Authorization": f"Bearer {seller_token(settings.auth_secret.get_secret_value(), 'S-1')}"}
    assert (await api.get("/v1/ops/dead-letters", headers=seller)).status_code == 403
    assert (await api.get("/v1/ops/dead-letters")).status_code == 401
    missing = await api.post("/v1/ops/dead-letters/999999/resolve", headers=operator(settings),
                             json={"by": "ada", "note": "?"})
    assert missing.status_code == 404
    assert (await api.get("/v1/ops/outbox/set-aside", headers=operator(settings))).json() == []


async def test_letters_and_set_aside_rows_past_the_retention_are_erased_with_their_originals(settings: Settings
                                                                                             ) -> None:
    assert settings.database_url
    dsn = settings.database_url.get_secret_value()
    schema = settings.schema_for("retention")
    await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS])
    pool = await db.create_pool(dsn, schema, size=1)
    try:
        letters = [dl.DeadLetter(Record("p.ingress.orders", 0, offset, b"S-1", b"buyer data", ()),
                                 topics.INGRESS_ORDERS, "p.probe", "InvalidEvent", "bad") for offset in (1, 2)]
        async with pool.acquire() as conn, conn.transaction():
            await dl.stage_once(conn, letters, service="retention")
            await conn.execute("UPDATE dead_letters SET created_at = now() - interval '31 days'"
                               " WHERE kafka_offset = 1")
            await conn.execute("UPDATE outbox SET set_aside_at = now() - interval '31 days', set_aside_reason = 'r'"
                               " WHERE id = (SELECT min(id) FROM outbox)")
        assert await ledger.purge_expired(pool, settings.dlq_retention_seconds) == 2
        left = await pool.fetch("SELECT kafka_offset, value FROM dead_letters")
        assert [(row["kafka_offset"], bytes(row["value"])) for row in left] == [(2, b"buyer data")]
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await pool.close()
        await db.drop_schema(dsn, schema)


async def test_the_dlq_commands_list_resolve_and_refuse_to_replay_a_resolved_letter(service: ServiceRuntime) -> None:
    settings = service.settings
    seller = unique("S-cli")
    await publish_events(settings, topics.INGRESS_ORDERS, [checkout_order(seller, unique("refuse"))])

    async def outstanding() -> list[dlq.Listed]:
        return [x for x in await dlq.list_letters(settings, SERVICES) if x.entry.key == seller]

    await eventually(lambda: _has(outstanding()), timeout=60, what="the letter outstanding")
    [letter] = await outstanding()
    name = f"probe/{letter.entry.id}"

    listed = await sellerflow(settings, "dlq", "list", "-s", "probe")
    assert listed.exit_code == 0 and f"{name}  outstanding" in listed.output
    resolved = await sellerflow(settings, "dlq", "resolve", name, "--by", "ada", "--note", "junk")
    assert resolved.exit_code == 0 and "resolved by ada" in resolved.output
    assert name not in (await sellerflow(settings, "dlq", "list", "-s", "probe")).output
    assert f"{name}  resolved" in (await sellerflow(settings, "dlq", "list", "-s", "probe", "--all")).output
    refused = await sellerflow(settings, "dlq", "replay", name)
    assert refused.exit_code == 1 and "is resolved" in refused.output
    aside = await sellerflow(settings, "outbox", "list", "-s", "probe")
    assert aside.exit_code == 0 and "0 rows set aside" in aside.output


async def _has(letters: Awaitable[list[dlq.Listed]]) -> bool:
    return bool(await letters)


async def sellerflow(settings: Settings, *args: str) -> Result:
    """The CLI as an operator runs it, in a thread (it runs its own event loop), on this test's schemas."""
    assert settings.database_url
    env = {"DATABASE_URL": settings.database_url.get_secret_value(), "DB_SCHEMA_PREFIX": settings.db_schema_prefix}

    def invoke() -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli.app, list(args), env=env)
        finally:
            get_settings.cache_clear()

    return await asyncio.to_thread(invoke)


async def test_oversized_poison_orders_do_not_stop_the_order_service_publishing_its_events(settings: Settings
                                                                                          ) -> None:
    seller = unique("S-order")
    valid = [checkout_order(seller) for _ in range(3)]
    async with running(settings, ["order"]):
        await publish_large(settings, [(seller.encode(), padded(checkout_order(seller), MIB + 2_000)),
                                       (seller.encode(), padded(checkout_order(seller), 1_048_300))]
                            + [(e.key, e.to_bytes()) for e in valid])
        letters = await read_topic(settings, topics.dlq_topic(topics.INGRESS_ORDERS), expect=2, timeout=60)
        published = await read_topic(settings, topics.ORDER_EVENTS, expect=3, timeout=60)
    assert len(letters) == 2 and all(len(r.value or b"") == dl.PREVIEW_BYTES for r in letters)
    placed = [parse_event(r.value or b"", topic=topics.ORDER_EVENTS) for r in published]
    assert sorted(e.data.order_id for e in placed if isinstance(e.data, OrderPlaced)) == sorted(
        e.data.order_id for e in valid)


async def test_the_ledger_outlives_a_rebuild_of_its_schema(settings: Settings) -> None:
    assert settings.database_url
    dsn = settings.database_url.get_secret_value()
    schema = settings.schema_for("rebuilt")
    await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS])

    def letter(offset: int) -> dl.DeadLetter:
        return dl.DeadLetter(Record("p.order.events", 0, offset, b"S-1", b"{}", (("traceparent", b"00-t"),)),
                             topics.ORDER_EVENTS, "p.metrics", "InvalidEvent", "bad")

    pool = await db.create_pool(dsn, schema, size=1)
    async with pool.acquire() as conn, conn.transaction():
        await dl.stage_once(conn, [letter(1)], service="rebuilt")
    async with pool.acquire() as conn:
        await ledger.resolve(conn, 1, by="ada", note="known")
    await pool.close()
    async with ledger.kept_through(dsn, schema):
        await db.drop_schema(dsn, schema)
        await db.migrate(dsn, schema, [db.MESSAGING_MIGRATIONS])
    pool = await db.create_pool(dsn, schema, size=1)
    try:
        async with pool.acquire() as conn:
            async with conn.transaction():
                await dl.stage_once(conn, [letter(2)], service="rebuilt")
            entries = await ledger.list_letters(conn, status=None)
            headers = await conn.fetchval("SELECT headers FROM dead_letters WHERE id = 1")
    finally:
        await pool.close()
        await db.drop_schema(dsn, schema)
    assert [(e.id, e.status, e.handled_by) for e in entries] == [(1, "resolved", "ada"), (2, "outstanding", None)]
    assert headers == {"traceparent": "00-t"}
