"""The platform's public doors, as the simulator uses them: ingress topics, the clock, the HTTP APIs.

The simulator never writes to a service's database. Between clock ticks it waits until every
service is idle (`/ops/progress`), so what happens does not depend on how fast anything ran.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from shared.clock import tick
from shared.events import Event, Payload, new_event
from shared.settings import SERVICE_NAMES, Settings

_IDS = uuid.UUID("9b7e4c1e-3f0a-4f57-8a57-6c1d2e3f4a5b")


class PlatformError(RuntimeError):
    pass


class Doors:
    def __init__(self, settings: Settings, bootstrap: str, http: Mapping[str, httpx.AsyncClient],
                 operator_token: str, *, seed: int) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.http = http
        self.operator = {"Authorization": f"Bearer {operator_token}"}
        self.seed = seed
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[Any] = []
        self.sent: dict[str, int] = {}  # logical topic -> records the simulator published

    async def __aenter__(self) -> Doors:
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._producer is not None:
            await self._producer.stop()

    # --- Kafka -----------------------------------------------------------------------------------
    def event(self, data: Payload, *, seller_id: str, subject: str, time: datetime, source: str) -> Event[Any]:
        """An event whose id is derived from the seed and what it says, not from when it was made:
        actions of different entities run side by side, and a replay must publish the very same ids.
        (The same fact twice gets one id, and is applied once: that is what an id means.)"""
        key = f"{self.seed}/{data.EVENT_TYPE}/{seller_id}/{subject}/{time.isoformat()}/{data.model_dump_json()}"
        event_id = uuid.uuid5(_IDS, key)
        return new_event(data, seller_id=seller_id, subject=subject, time=time, source=source, event_id=event_id)

    async def send(self, topic: str, events: Sequence[Event[Any]]) -> None:
        assert self._producer is not None
        for event in events:
            self._pending.append(await self._producer.send(self.settings.topic(topic), event.to_bytes(),
                                                           key=event.key))
        self.sent[topic] = self.sent.get(topic, 0) + len(events)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)

    async def tick(self, now: datetime) -> None:
        from shared.events import topics

        await self.send(topics.CLOCK_EVENTS, [tick(now)])
        await self.flush()

    # --- HTTP ------------------------------------------------------------------------------------
    async def call(self, service: str, method: str, path: str, *, token: str | None = None,
                   json: Any = None, params: Mapping[str, Any] | None = None, ok: Sequence[int] = (200, 201),
                   ) -> httpx.Response:
        # token None: the operator; "": nobody (registration); else the seller's own token.
        headers = self.operator if token is None else ({"Authorization": f"Bearer {token}"} if token else {})
        try:
            response = await self.http[service].request(method, path, json=json, params=params, headers=headers)
        except httpx.TransportError:
            if method != "GET":
                raise
            response = await self.http[service].request(method, path, json=json, params=params, headers=headers)
        if response.status_code not in ok:
            raise PlatformError(f"{method} {service}{path}: {response.status_code} {response.text[:300]}")
        return response

    async def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return (await self.call(service, "GET", path, **kwargs)).json()

    async def post(self, service: str, path: str, body: Mapping[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.call(service, "POST", path, json=body, **kwargs)

    async def register(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Register as anyone does (no token), then read the outcome with the receipt: status, reasons and,
        once verified, the seller's token. The receipt comes back too, to read the outcome again later."""
        receipt = (await self.call("listing", "POST", "/v1/sellers", json=body, token="", ok=(202,))).json()
        return {**await self.registration(receipt["seller_id"], receipt["receipt"]), "receipt": receipt["receipt"]}

    async def registration(self, seller_id: str, receipt: str) -> dict[str, Any]:
        outcome: dict[str, Any] = await self.get("listing", f"/v1/sellers/{seller_id}/registration", token=receipt)
        return outcome

    # --- waiting for the platform ------------------------------------------------------------------
    async def wait_idle(self, *, limit: float = 300.0) -> None:
        """Wait until the platform has applied everything: no timing guess, a count.

        Every record on a topic was published by the simulator or by a service's outbox relay, and
        each counts what it sent; each service counts what it consumed of each input topic. The
        platform is idle when every service has consumed at least what was produced on each of its
        inputs (more after a redelivery), has no batch in flight, nothing unsent in its outbox and no relay
        pass under way (each service reads these in an order that lets nothing slip between them).

        A service found settled is not asked again unless more is produced on its inputs: while the
        simulator waits, a service only works on what it consumes, so polling costs the platform
        little while it catches up.
        """
        deadline = asyncio.get_running_loop().time() + limit
        known: dict[str, dict[str, Any]] = {}
        ask, pause = list(SERVICE_NAMES), 0.005
        while True:
            polled = await asyncio.gather(*(self.get(name, "/ops/progress") for name in ask))
            known.update(zip(ask, polled, strict=True))
            produced = dict(self.sent)
            for p in known.values():
                for topic, count in p["published"].items():
                    produced[topic] = produced.get(topic, 0) + count
            behind = {name: {t: produced.get(t, 0) - p["consumed"].get(t, 0) for t in p["inputs"]
                             if p["consumed"].get(t, 0) < produced.get(t, 0)}
                      for name, p in known.items()}
            busy = {name: (p["batches_in_flight"], p["outbox_unsent"], p["relaying"]) for name, p in known.items()
                    if (p["batches_in_flight"], p["outbox_unsent"], p["relaying"]) != (0, 0, False)}
            ask = [name for name in SERVICE_NAMES if name in busy or behind[name]]
            if not ask:
                return
            if os.environ.get("SELLERFLOW_DEBUG_IDLE"):
                print(f"behind {behind} busy {busy}", file=sys.stderr)
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the platform did not settle within {limit:.0f} s: behind {behind}, busy {busy}")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.04)
