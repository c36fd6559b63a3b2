"""Account status use cases: the metrics service's enforcement decisions, and appeals an operator decides.

An account change switches the seller's listings with it (account.listing_changes): restricted,
suspended, reinstated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.listing import account, listing_repository, repository
from services.listing.account import SellerListing, TransitionRefused
from services.listing.repository import AppealRow, EnforcementRow
from services.listing.service import NotFound, Refused, fact, get_seller, new_id, short, shorts, status_changed
from shared.events import Event
from shared.events.common import AccountStatus, FulfillmentChannel, ListingStatus
from shared.events.listing import ListingStatusChanged
from shared.events.metrics import SellerEnforcementDecided
from shared.events.seller import SellerAppealDecided, SellerAppealed, StatusCause
from shared.messaging import outbox
from shared.messaging.consumer import Unprocessable

log = logging.getLogger(__name__)
_ENFORCED = frozenset({AccountStatus.WARNED, AccountStatus.RESTRICTED, AccountStatus.SUSPENDED})
_UNVERIFIED = frozenset({AccountStatus.PENDING_REVIEW, AccountStatus.REJECTED})


# --- enforcement -----------------------------------------------------------------------------------


async def apply_enforcement(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """Apply the metrics service's decision; a decision the status table refuses is recorded and ignored."""
    decision = event.data_as(SellerEnforcementDecided)
    seller_id, at = event.sellerid, event.time
    seller = await repository.get_seller(conn, seller_id, lock="update")
    if seller is None:
        raise Unprocessable(f"seller.enforcement_decided for seller {seller_id}, unknown to the listing service")
    old = AccountStatus(seller.status)
    try:
        new = account.apply_enforcement(old, decision.action)
    except TransitionRefused as refused:
        log.warning("enforcement decision ignored", extra={"reason": str(refused), "enforcement": str(event.id)})
        await repository.record_enforcement(conn, EnforcementRow(
            event.id, seller_id, decision.action.value, "ignored", old.value, old.value, str(refused), at))
        return
    outcome = "applied" if new is not old else "unchanged"
    await repository.record_enforcement(conn, EnforcementRow(
        event.id, seller_id, decision.action.value, outcome, old.value, new.value, None, at))
    events: list[Event[Any]] = []
    if new is not old:
        await repository.set_seller_status(conn, seller_id, new.value, at)
        events.append(status_changed(seller_id, old, new, StatusCause.ENFORCEMENT, at, decision.reasons, event.id))
    events += await switch_listings(conn, seller_id, new, at)
    await outbox.stage(conn, events)


async def switch_listings(
    conn: asyncpg.Connection, seller_id: str, status: AccountStatus, at: datetime
) -> list[Event[Any]]:
    """Deactivate or restore the seller's listings for its new account status; their status events."""
    rows = {row.listing_id: row for row in await listing_repository.listings_of(conn, seller_id, lock="update")}
    changes = account.listing_changes(status, [
        SellerListing(row.listing_id, FulfillmentChannel(row.fulfillment_channel), ListingStatus(row.status),
                      deactivated_by_enforcement=row.held, paused=row.paused, in_stock=row.available > 0)
        for row in rows.values()
    ])
    await listing_repository.set_standing(
        conn, [(c.listing_id, c.status.value, c.deactivated_by_enforcement) for c in changes], at)
    why = f"the account is {status.value}"
    return [
        fact(ListingStatusChanged(listing_id=c.listing_id, sku=rows[c.listing_id].sku,
                                  fulfillment_channel=FulfillmentChannel(rows[c.listing_id].fulfillment_channel),
                                  old_status=ListingStatus(rows[c.listing_id].status), new_status=c.status,
                                  reasons=[why]),
             seller_id=seller_id, subject=c.listing_id, at=at)
        for c in changes if c.status.value != rows[c.listing_id].status
    ]


# --- appeals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOfAction:
    root_cause: str
    actions: list[str]
    prevention: str
    violation_ids: list[str]
    enforcement_event_id: UUID | None = None


async def file_appeal(conn: asyncpg.Connection, seller_id: str, plan: PlanOfAction, *, at: datetime) -> AppealRow:
    seller = await get_seller(conn, seller_id, lock="share")
    status = AccountStatus(seller.status)
    if status in _UNVERIFIED:
        raise Refused(f"the account is {status.value}: there is no enforcement to appeal")
    if status not in _ENFORCED and not plan.violation_ids:
        raise Refused(f"the account is {status.value} and the appeal names no violation: nothing to appeal")
    enforcement = plan.enforcement_event_id
    if enforcement is None and status in _ENFORCED:
        enforcement = await repository.latest_enforcement(conn, seller_id)
    appeal = AppealRow(new_id("APL"), seller_id, plan.root_cause, plan.actions, plan.prevention,
                       plan.violation_ids, enforcement, at)
    try:
        await repository.insert_appeal(conn, appeal)
    except repository.AppealOpen:
        raise Refused("an appeal of this seller is waiting for a decision") from None
    appealed = SellerAppealed(appeal_id=appeal.appeal_id, root_cause=plan.root_cause, actions=shorts(plan.actions),
                              prevention=plan.prevention, violation_ids=plan.violation_ids,
                              enforcement_event_id=enforcement)
    await outbox.stage(conn, [fact(appealed, seller_id=seller_id, subject=appeal.appeal_id, at=at)])
    return appeal


async def get_appeal(conn: repository.Executor, appeal_id: str, *, lock: repository.Lock = None) -> AppealRow:
    appeal = await repository.get_appeal(conn, appeal_id, lock=lock)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}")
    return appeal


async def decide_appeal(
    conn: asyncpg.Connection, appeal_id: str, *, accepted: bool, operator_id: str, note: str | None,
    resolved_violation_ids: list[str] | None, at: datetime,
) -> AppealRow:
    """An operator's verdict; an accepted appeal reinstates a restricted or suspended account."""
    seller_id = (await get_appeal(conn, appeal_id)).seller_id
    seller = await get_seller(conn, seller_id, lock="update")  # the seller first: the locking order
    appeal = await get_appeal(conn, appeal_id, lock="update")
    if appeal.decided_at is not None:
        raise Refused(f"appeal {appeal_id} was decided at {appeal.decided_at.isoformat()}")
    resolved = resolved_violation_ids if resolved_violation_ids is not None else appeal.violation_ids
    decided = replace(appeal, accepted=accepted, operator_id=operator_id, note=note,
                      resolved_violation_ids=resolved if accepted else [], decided_at=at)
    await repository.decide_appeal(conn, decided)
    verdict = SellerAppealDecided(appeal_id=appeal_id, accepted=accepted, operator_id=operator_id,
                                  resolved_violation_ids=decided.resolved_violation_ids,
                                  note=short(note) if note else None)
    events = [fact(verdict, seller_id=seller_id, subject=appeal_id, at=at)]
    old = AccountStatus(seller.status)
    if old in (AccountStatus.RESTRICTED, AccountStatus.SUSPENDED):
        new = account.decide_appeal(old, accepted=accepted)
        if new is not old:
            await repository.set_seller_status(conn, seller_id, new.value, at)
            events.append(status_changed(seller_id, old, new, StatusCause.APPEAL, at,
                                          [f"appeal {appeal_id} accepted by an operator"]))
            events += await switch_listings(conn, seller_id, new, at)
    await outbox.stage(conn, events)
    return decided
