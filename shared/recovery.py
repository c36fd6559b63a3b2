"""A lost broker: notice it came back empty, re-declare the topics, re-join, resume (design.md section 6).

The embedded Tansu keeps everything in memory: after a restart its topics, records and committed
offsets are gone, and an aiokafka consumer carries on with positions and commits from the old broker
(a stale commit skips the new topic's first records). So a service watches the broker it talks to:
the cluster id (the embedded broker gets a new one at every start) and the topics it declared. When
either changes it

1. stops its batch subscriber, so nothing more is committed from the old positions;
2. re-creates its topics with their partition counts;
3. hands every outbox row the old broker may have held back to the relay (the consumers' inboxes
   skip what was already applied), so no event it published is lost with the broker;
4. restarts the subscriber and reads its partitions from the beginning of the new topics.

Until that is done, /readyz answers 503 with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from shared.messaging.broker import admin_client, create_topics
from shared.settings import Settings

log = logging.getLogger(__name__)

#: A consumer-group join takes about 5 s on the embedded broker; a step far longer than that is stuck.
_STEP_TIMEOUT_SECONDS = 30.0
T = TypeVar("T")


@dataclass(frozen=True)
class BrokerView:
    """What the broker says about itself and about the topics a service declared."""

    cluster_id: str | None
    missing: tuple[str, ...]  # declared physical topics the broker does not know

    def lost_since(self, before: BrokerView) -> str | None:
        """Why the broker must be taken as a new, empty one since `before` (None: it is the same)."""
        if self.cluster_id != before.cluster_id:
            return f"the broker's cluster id changed ({before.cluster_id} -> {self.cluster_id})"
        if self.missing:
            return f"{len(self.missing)} declared topics are gone ({', '.join(self.missing[:3])}, ...)"
        return None


async def look(admin: AIOKafkaAdminClient, declared: Sequence[str]) -> BrokerView:
    """One metadata request for every topic (naming topics would auto-create them on some brokers)."""
    metadata = (await admin._get_cluster_metadata(topics=None)).to_object()
    existing = {topic["topic"] for topic in metadata["topics"]}
    return BrokerView(metadata.get("cluster_id"), tuple(t for t in declared if t not in existing))


class BrokerGuard:
    """Watches the broker every `interval` seconds and recovers the service when it came back empty."""

    def __init__(self, settings: Settings, bootstrap_servers: str, broker: KafkaBroker, pool: asyncpg.Pool,
                 schema: str, logical_topics: Sequence[str], *, interval: float) -> None:
        self.settings = settings
        self.schema = schema
        self.bootstrap_servers = bootstrap_servers
        self.broker = broker
        self.pool = pool
        self.logical_topics = list(logical_topics)
        self.interval = interval
        #: Why the service is not serving its inputs right now (None: it is); /readyz reports it.
        self.problem: str | None = None
        self.recoveries = 0
        self._admin: AIOKafkaAdminClient | None = None
        self._known: BrokerView | None = None

    @property
    def declared(self) -> list[str]:
        return sorted(self.settings.topic(t) for t in self.logical_topics)

    async def start(self) -> None:
        """Remember the broker as it is once the service has declared its topics."""
        self._admin = admin_client(self.settings, self.bootstrap_servers)
        await self._admin.start()
        self._known = await look(self._admin, self.declared)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # unreachable, or a recovery cut short: say so, and look again
                if not (self.problem or "").startswith("recovering"):
                    self.problem = f"broker unreachable: {type(error).__name__}"
                log.warning("broker check failed", extra={"error": repr(error)})

    async def check(self) -> None:
        assert self._admin is not None and self._known is not None
        view = await look(self._admin, self.declared)
        reason = view.lost_since(self._known)
        if reason is None:
            self.problem = None
            return
        self.problem = f"recovering: {reason}"
        log.warning("the broker came back empty; re-declaring topics and re-joining", extra={"reason": reason})
        started = time.monotonic()
        try:
            resent = await self.recover()
        except Exception as error:  # the next check starts over: the broker is still not the one we knew
            self.problem = f"recovering: {reason}; the last attempt failed ({type(error).__name__}), retrying"
            raise
        self._known = await look(self._admin, self.declared)
        self.recoveries += 1
        self.problem = None
        log.warning("recovered from a lost broker",
                    extra={"seconds": round(time.monotonic() - started, 1), "outbox_rows_resent": resent})

    async def recover(self) -> int:
        subscribers = list(self.broker.subscribers)
        for subscriber in subscribers:
            await self._step("stop the consumer", subscriber.stop())
        await self._step("re-create the topics", create_topics(self.settings, self.bootstrap_servers,
                                                               self.logical_topics))
        resent = await self._step("hand the outbox back to the relay", resend_outbox(self.pool, self.schema))
        for subscriber in subscribers:
            await self._step("start the consumer", subscriber.start())
            consumer = getattr(subscriber, "consumer", None)
            if consumer is not None:
                await self._step("re-join and seek to the beginning", _from_the_beginning(consumer))
        return resent

    async def _step(self, what: str, step: Coroutine[Any, Any, T]) -> T:
        """One step of a recovery, bounded: one that hangs fails the attempt, and the next check retries.

        A hung step is abandoned, not awaited: a request the new broker never answers (seen with
        CreateTopics from several services at once) may not even end when it is cancelled.
        """
        started = time.monotonic()
        task = asyncio.ensure_future(step)
        done, _ = await asyncio.wait({task}, timeout=_STEP_TIMEOUT_SECONDS)
        log.info("recovery step: %s, %.1f s%s", what, time.monotonic() - started, "" if done else " (abandoned)")
        if not done:
            task.cancel()
            raise TimeoutError(f"{what}: no answer within {_STEP_TIMEOUT_SECONDS:.0f} s")
        return task.result()

    async def stop(self) -> None:
        if self._admin is not None:
            await self._admin.close()
            self._admin = None


async def resend_outbox(pool: asyncpg.Pool, schema: str) -> int:
    """Every relayed row still kept goes out again, in order: the broker that acknowledged it is gone."""
    result: str = await pool.execute("UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL")
    await pool.execute("SELECT pg_notify($1, '')", f"{schema}_outbox")  # wake the relay now
    return int(result.split()[-1])


async def _from_the_beginning(consumer: AIOKafkaConsumer) -> None:
    """Once the group has assigned partitions again, read them from the start of the new topics.

    Only after each position is settled: the consumer sets it from the group's committed offset, and
    that may be a stale one the old consumer committed to the new broker (it skips records).
    """
    while not (assigned := consumer.assignment()):  # noqa: ASYNC110 (aiokafka offers no event for this)
        await asyncio.sleep(0.1)
    for partition in assigned:
        await consumer.position(partition)
    await consumer.seek_to_beginning(*assigned)
