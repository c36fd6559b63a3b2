"""Listing service entry points: the events it consumes and its HTTP routes."""

from __future__ import annotations

from fastapi import APIRouter

from shared.messaging.dispatch import Dispatcher

#: Use cases register here per event type; events of other types are acknowledged.
events = Dispatcher()

router = APIRouter(prefix="/v1", tags=["listing"])
