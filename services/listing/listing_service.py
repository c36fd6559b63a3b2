"""Listing use cases: create, update, pause and resume (domain.md section 2), each in the caller's transaction.

A creation that breaks a rule is rejected (nothing stored); an update that breaks one is stored and
suppresses the listing, except a negative quantity, which is refused (stock is never negative).
Either way, L3, L4 and L7 also raise a policy violation, one per category and severity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from services.listing import account, listing_repository
from services.listing.listing_repository import ListingRow
from services.listing.listing_rules import ListingDraft, ListingReview, Rule, RuleBreach, check_listing, normalize_gtin
from services.listing.service import NotFound, Refused, fact, get_seller, new_id, short, shorts
from services.listing.standing import Standing
from shared.events import Event, topics
from shared.events.common import AccountStatus, Condition, FulfillmentChannel, ListingStatus, Money
from shared.events.listing import (
    AdjustmentReason,
    InventoryAdjusted,
    ListingCreated,
    ListingStatusChanged,
    ListingUpdated,
)
from shared.events.policy import PolicyViolated, ViolationSubject
from shared.messaging import outbox
from shared.offload import run_check


@dataclass(frozen=True)
class Outcome:
    """A listing command's result: the listing as stored, or None when the command was rejected."""

    listing: ListingRow | None
    review: ListingReview
    violation_ids: tuple[str, ...] = ()


class ListingNotFound(NotFound):
    pass


def breach_text(breach: RuleBreach) -> str:
    return f"{breach.rule.value} {breach.field}: {breach.message}"


def draft_of(row: ListingRow) -> ListingDraft:
    return ListingDraft(
        seller_sku=row.sku, product_id=row.product_id, title=row.title, brand=row.brand, description=row.description,
        bullet_points=tuple(row.bullet_points), condition=Condition(row.condition), price=row.price,
        currency=row.currency, quantity=row.available, handling_days=row.handling_days,
        fulfillment_channel=FulfillmentChannel(row.fulfillment_channel), image_urls=tuple(row.image_urls),
        category=row.category,
    )


def _content(draft: ListingDraft) -> dict[str, Any]:
    """The listing columns a seller writes."""
    return {
        "product_id": draft.product_id, "product_key": normalize_gtin(draft.product_id), "title": draft.title,
        "brand": draft.brand, "description": draft.description, "bullet_points": list(draft.bullet_points),
        "condition": draft.condition.value, "price": draft.price, "currency": draft.currency,
        "handling_days": draft.handling_days, "fulfillment_channel": draft.fulfillment_channel.value,
        "image_urls": list(draft.image_urls), "category": draft.category,
    }


def _standing(row: ListingRow) -> Standing:
    return Standing(tuple(row.suppressed_by), row.paused, row.held, row.available)


def _state(row: ListingRow) -> dict[str, Any]:
    """A stored listing as the payload of listing.created / listing.updated."""
    return {
        "listing_id": row.listing_id, "sku": row.sku, "product_id": row.product_id, "title": row.title,
        "brand": row.brand.strip()[:100] or None, "condition": Condition(row.condition),
        "price": Money(amount=row.price, currency=row.currency), "quantity": row.available,
        "handling_days": row.handling_days, "fulfillment_channel": FulfillmentChannel(row.fulfillment_channel),
        "status": ListingStatus(row.status),
    }


async def _review(conn: asyncpg.Connection, seller_id: str, listing_id: str, draft: ListingDraft) -> ListingReview:
    duplicate = await listing_repository.lists_product(
        conn, seller_id, normalize_gtin(draft.product_id), draft.condition.value, besides=listing_id)
    existing = [(draft.product_id, draft.condition)] if duplicate else []
    size = len(draft.title) + len(draft.brand) + len(draft.description) + sum(map(len, draft.bullet_points))
    return await run_check(check_listing, size, draft, existing=existing)  # a large text: off the event loop


def _violations(review: ListingReview, seller_id: str, listing_id: str, at: datetime) -> list[Event[Any]]:
    """One policy.violation per category and severity (L3 + L4 in one listing is one listing violation)."""
    groups: dict[tuple[Any, Any], list[Rule]] = {}
    for rule, category, severity in review.policy_violations:
        groups.setdefault((category, severity), []).append(rule)
    events = []
    for (category, severity), rules in groups.items():
        found = "; ".join(breach_text(b) for b in review.breaches if b.rule in rules)
        violation = PolicyViolated(
            violation_id=new_id("V"), category=category, severity=severity, rules=[r.value for r in rules],
            subject_kind=ViolationSubject.LISTING, subject_id=listing_id, detected_at=at,
            description=short(f"listing {listing_id}: {found}"),
        )
        events.append(fact(violation, seller_id=seller_id, subject=listing_id, at=at))
    return events


def _status_changed(before: ListingRow, after: ListingRow, reasons: list[str], at: datetime) -> list[Event[Any]]:
    if before.status == after.status:
        return []
    change = ListingStatusChanged(
        listing_id=after.listing_id, sku=after.sku, fulfillment_channel=FulfillmentChannel(after.fulfillment_channel),
        old_status=ListingStatus(before.status), new_status=ListingStatus(after.status), reasons=shorts(reasons),
    )
    return [fact(change, seller_id=after.seller_id, subject=after.listing_id, at=at)]


async def _stage(conn: asyncpg.Connection, events: list[Event[Any]]) -> None:
    await outbox.stage(conn, events, topic=topics.LISTING_EVENTS)  # policy.violation may go to two topics


async def create_listing(
    conn: asyncpg.Connection, seller_id: str, draft: ListingDraft, *, at: datetime, listing_id: str | None = None
) -> Outcome:
    """Only a verified seller that is not suspended may list; a restricted one only marketplace-fulfilled."""
    status = AccountStatus((await get_seller(conn, seller_id, lock="share")).status)
    if not account.may_create_listing(status, draft.fulfillment_channel):
        raise Refused(f"the account is {status.value}: it may not create "
                      f"{draft.fulfillment_channel.value}-fulfilled listings")
    listing_id = listing_id or new_id("L")
    review = await _review(conn, seller_id, listing_id, draft)
    violations = _violations(review, seller_id, listing_id, at)
    ids = tuple(event.data.violation_id for event in violations)
    if not review.accepted:
        await _stage(conn, violations)
        return Outcome(None, review, ids)
    standing = Standing(available=draft.quantity)
    row = ListingRow(listing_id=listing_id, seller_id=seller_id, sku=draft.seller_sku, **_content(draft),
                     status=standing.status.value, paused=False, held=False, suppressed_by=[],
                     on_hand=draft.quantity, reserved=0, created_at=at, updated_at=at)
    try:
        await listing_repository.insert_listing(conn, row)
    except listing_repository.SkuTaken:
        raise Refused(f"the seller already has a listing with SKU {draft.seller_sku!r}") from None
    except listing_repository.ListingIdTaken:
        raise Refused(f"listing id {listing_id} is taken") from None
    except listing_repository.DuplicateDetailPage:  # L8 raced: another creation stored it meanwhile
        return Outcome(None, ListingReview((_duplicate(draft),)))
    await _stage(conn, [fact(ListingCreated(**_state(row)), seller_id=seller_id, subject=listing_id, at=at)])
    return Outcome(row, review)


def _duplicate(draft: ListingDraft) -> RuleBreach:
    message = f"this seller already lists product {draft.product_id} in condition {draft.condition.value}"
    return RuleBreach(Rule.L8, "product_id", message)


async def locked(conn: asyncpg.Connection, listing_id: str) -> tuple[AccountStatus, ListingRow]:
    """The account status (held still) and the listing (locked), in the locking order."""
    found = await listing_repository.get_listing(conn, listing_id)
    if found is None:
        raise ListingNotFound(f"no listing {listing_id}")
    seller = await get_seller(conn, found.seller_id, lock="share")
    row = await listing_repository.get_listing(conn, listing_id, lock="update")
    assert row is not None  # listings are never deleted
    return AccountStatus(seller.status), row


async def update_listing(
    conn: asyncpg.Connection, listing_id: str, changes: Mapping[str, Any], *, at: datetime
) -> Outcome:
    """Re-validate the whole listing with the changes; a listing that now breaks a rule is suppressed."""
    status, current = await locked(conn, listing_id)
    draft = replace(draft_of(current), **changes)
    review = await _review(conn, current.seller_id, listing_id, draft)
    violations = _violations(review, current.seller_id, listing_id, at)
    ids = tuple(event.data.violation_id for event in violations)
    if draft.quantity < 0:  # an impossible value: refused, nothing changes
        await _stage(conn, violations)
        return Outcome(None, review, ids)
    held = account.blocks_listing(status, draft.fulfillment_channel)
    row = _updated(current, draft, review, held, at)
    try:
        await listing_repository.save_listing(conn, row)
    except listing_repository.DuplicateDetailPage:  # L8 raced: suppress it as a duplicate
        review = ListingReview((*review.breaches, _duplicate(draft)))
        row = _updated(current, draft, review, held, at)
        await listing_repository.save_listing(conn, row)
    events = violations
    if review.accepted:
        events.append(fact(ListingUpdated(**_state(row)), seller_id=row.seller_id, subject=listing_id, at=at))
    events += _status_changed(current, row, list(_standing(row).reasons) or ["updated by the seller"], at)
    if row.on_hand != current.on_hand:
        adjusted = InventoryAdjusted(listing_id=listing_id, sku=row.sku, delta=row.on_hand - current.on_hand,
                                     available=row.available, reserved=row.reserved,
                                     reason=AdjustmentReason.SELLER_UPDATE)
        events.append(fact(adjusted, seller_id=row.seller_id, subject=listing_id, at=at))
    await _stage(conn, events)
    return Outcome(row, review, ids)


def _updated(current: ListingRow, draft: ListingDraft, review: ListingReview, held: bool, at: datetime) -> ListingRow:
    suppressed_by = [breach_text(b) for b in review.breaches]
    standing = Standing(tuple(suppressed_by), current.paused, held, draft.quantity)
    return replace(current, **_content(draft), status=standing.status.value, held=held, suppressed_by=suppressed_by,
                   on_hand=current.reserved + draft.quantity, updated_at=at)


async def pause_listing(conn: asyncpg.Connection, listing_id: str, *, at: datetime) -> ListingRow:
    _, current = await locked(conn, listing_id)
    return await _restand(conn, current, _standing(current).pause(), at, "")


async def resume_listing(conn: asyncpg.Connection, listing_id: str, *, at: datetime) -> ListingRow:
    """A paused listing comes back, unless the account may not list on its channel."""
    status, current = await locked(conn, listing_id)
    channel = FulfillmentChannel(current.fulfillment_channel)
    if not account.may_create_listing(status, channel):
        raise Refused(f"the account is {status.value}: its {channel.value}-fulfilled listings stay inactive")
    return await _restand(conn, current, _standing(current).resume(), at, "resumed by the seller")


async def _restand(
    conn: asyncpg.Connection, current: ListingRow, standing: Standing, at: datetime, why_active: str
) -> ListingRow:
    if (standing.status.value, standing.paused, standing.held) == (current.status, current.paused, current.held):
        return current  # already so: nothing to announce
    row = replace(current, status=standing.status.value, paused=standing.paused, held=standing.held, updated_at=at)
    await listing_repository.save_listing(conn, row)  # never leaves 'suppressed': L8's index cannot refuse it
    await _stage(conn, _status_changed(current, row, list(standing.reasons) or [why_active], at))
    return row
