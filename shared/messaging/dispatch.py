"""Route each event of a batch to the use case for its type, inside the batch's transaction.

Two kinds of route:
- `on(Type)`: a use case for one event at a time;
- `on_run(TypeA, TypeB, ...)`: a set-based use case that takes a *run* of consecutive events of those
  types at once, so a batch of 500 orders costs a few statements instead of a few per order.

Batch order is kept: a run ends where an event of another route comes, so an event never sees
state that a later event of the batch made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from shared.events import Event, Payload
from shared.messaging.consumer import Incoming, handling

P = TypeVar("P", bound=Payload)
EventHandler = Callable[[asyncpg.Connection, Event[Any]], Awaitable[None]]
#: A run handler reads and writes set-based, and decides each event inside `handling(item)`, so the
#: events it stages for that item continue the item's trace.
RunHandler = Callable[[asyncpg.Connection, Sequence[Incoming]], Awaitable[None]]


class Dispatcher:
    """A batch handler made of one handler per event type, or per group of types applied as runs.

    Types with no handler are valid events this service does not need (a topic carries many types):
    they are acknowledged without an inbox row. Types unknown to the catalog never get here:
    `parse_event` dead-letters them.
    """

    def __init__(self) -> None:
        self._routes: dict[str, EventHandler] = {}
        self._runs: dict[str, RunHandler] = {}

    def on(self, payload: type[P]) -> Callable[[EventHandler], EventHandler]:
        def register(handler: EventHandler) -> EventHandler:
            self._claim(payload.EVENT_TYPE)
            self._routes[payload.EVENT_TYPE] = handler
            return handler

        return register

    def on_run(self, *payloads: type[Payload]) -> Callable[[RunHandler], RunHandler]:
        """A set-based handler for consecutive events of these types (in batch order)."""

        def register(handler: RunHandler) -> RunHandler:
            for payload in payloads:
                self._claim(payload.EVENT_TYPE)
                self._runs[payload.EVENT_TYPE] = handler
            return handler

        return register

    def _claim(self, event_type: str) -> None:
        if event_type in self._routes or event_type in self._runs:
            raise ValueError(f"{event_type} already has a handler")

    @property
    def handled_types(self) -> frozenset[str]:
        return frozenset(self._routes) | frozenset(self._runs)

    async def __call__(self, conn: asyncpg.Connection, batch: Sequence[Incoming]) -> None:
        run: list[Incoming] = []
        run_handler: RunHandler | None = None
        for item in batch:
            handler = self._runs.get(item.event.type)
            if handler is not None and handler is run_handler:
                run.append(item)
                continue
            if run_handler is not None:
                await run_handler(conn, run)
            run, run_handler = ([item], handler) if handler is not None else ([], None)
            if handler is None and (single := self._routes.get(item.event.type)) is not None:
                with handling(item):
                    await single(conn, item.event)
        if run_handler is not None:
            await run_handler(conn, run)
