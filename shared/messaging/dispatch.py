"""Route each event of a batch to the use case for its type, inside the batch's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from shared.events import Event, Payload
from shared.messaging.consumer import Incoming, handling

P = TypeVar("P", bound=Payload)
EventHandler = Callable[[asyncpg.Connection, Event[Any]], Awaitable[None]]


class Dispatcher:
    """A batch handler made of one handler per event type.

    Types with no handler are valid events this service does not need (a topic carries many types):
    they are acknowledged, and the inbox records them. Types unknown to the catalog never get here:
    `parse_event` dead-letters them.
    """

    def __init__(self) -> None:
        self._routes: dict[str, EventHandler] = {}

    def on(self, payload: type[P]) -> Callable[[EventHandler], EventHandler]:
        def register(handler: EventHandler) -> EventHandler:
            if payload.EVENT_TYPE in self._routes:
                raise ValueError(f"{payload.EVENT_TYPE} already has a handler")
            self._routes[payload.EVENT_TYPE] = handler
            return handler

        return register

    @property
    def handled_types(self) -> frozenset[str]:
        return frozenset(self._routes)

    async def __call__(self, conn: asyncpg.Connection, batch: Sequence[Incoming]) -> None:
        for item in batch:
            handler = self._routes.get(item.event.type)
            if handler is not None:
                with handling(item):
                    await handler(conn, item.event)
