"""What every after-sales life cycle shares: refusals, transition tables, time checks. Pure, no I/O.

`domain.py` (messages, returns, refunds) and `disputes.py` (claims, chargebacks, feedback) both
build on this module, so neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TypeVar


class Refused(ValueError):
    """A broken rule; `reason` is meant for the seller, the operator or the dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RefusedTransition(Refused):
    """A transition the life cycle's table does not allow (the thing is already in another state)."""


S = TypeVar("S", bound=StrEnum)
Table = Mapping[S, frozenset[S]]


def move(table: Table[S], current: S, target: S, what: str) -> S:
    """`target` if the table allows it from `current`, else RefusedTransition."""
    if target not in table[current]:
        raise RefusedTransition(f"{what} is {current}: it cannot become {target}")
    return target


def require_aware(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise Refused(f"{what}: time {at.isoformat()} has no time zone")


def require_not_before(at: datetime, *, not_before: datetime, what: str) -> None:
    require_aware(at, what)
    if at < not_before:
        raise Refused(f"{what}: {at.isoformat()} is before {not_before.isoformat()}")
