"""Buyer messages and seller messages: the 24-hour reply clock and the messaging rules M1-M8.

Every seller message (a reply, or a message about an order) is screened before delivery; a message
that breaks a rule is recorded as blocked, not delivered, and raises a policy violation.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from services.aftersales import read_model, repository, wire
from services.aftersales.domain import AftersalesPolicy, BuyerMessage
from services.aftersales.lifecycle import Refused, require_not_before
from services.aftersales.message_rules import (
    MessagePolicy,
    SellerMessageRule,
    check_seller_message,
    is_review_request,
)
from services.aftersales.read_model import KnownOrder
from services.aftersales.repository import NotFound, SellerMessage
from shared.events import Event
from shared.events.aftersales import MessageBlocked, MessageReceived, MessageReplied
from shared.events.ingress import BuyerMessageSent
from shared.offload import run_check

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What became of a seller's message."""

    message_id: str
    delivered: bool
    rules: list[str] = field(default_factory=list)  # the rules broken, when blocked
    minutes_to_reply: int | None = None
    on_time: bool | None = None


async def receive_message(
    conn: asyncpg.Connection, event: Event[Any], order: KnownOrder | None, policy: AftersalesPolicy
) -> None:
    """A buyer message starts the reply clock (unless the buyer needs no reply). A message id seen before is skipped."""
    data = event.data_as(BuyerMessageSent)
    message = BuyerMessage.receive(data.message_id, data.order_id, at=data.sent_at, needs_reply=data.needs_reply,
                                   policy=policy)
    seller = event.sellerid
    inserted = await repository.MESSAGES.insert(conn, seller, message, buyer_id=data.buyer_id,
                                                subject=data.subject, body=data.body)
    if not inserted:
        log.info("message id seen before; skipped", extra={"message_id": data.message_id})
        return
    received = MessageReceived(message_id=message.message_id, order_id=message.order_id,
                               received_at=message.received_at, needs_reply=message.needs_reply,
                               due_by=message.reply_due_by)
    await wire.stage(conn, seller, message.message_id, data.sent_at, [received])


async def reply(
    conn: asyncpg.Connection, seller_id: str, message_id: str, text: str, *, at: datetime, policy: MessagePolicy,
    reply_id: str | None = None,
) -> Delivery:
    """The seller answers a buyer message: screened, then delivered (`message.replied`) or blocked.
    `reply_id`, the seller's own id for the reply, makes a repeated request harmless: it gets the first answer."""
    message = await repository.MESSAGES.get(conn, seller_id, message_id, lock=True)
    if message is None:
        raise NotFound(f"no message {message_id} for this seller")
    if reply_id is not None and (sent := await _sent_before(conn, seller_id, reply_id, in_reply_to=message_id)):
        if not sent.delivered:
            return Delivery(sent.message_id, False, sent.rules)
        timing = message.reply_time(sent.sent_at)
        return Delivery(sent.message_id, True, sent.rules, timing.minutes, timing.on_time)
    timing = message.reply(at=at)  # refuses a second reply or a reply before the message, before screening
    reply_id = reply_id or _new_id()
    broken = await _screen(conn, seller_id, reply_id, order_id=message.order_id, in_reply_to=message_id,
                           text=text, at=at, policy=policy)
    if broken:
        return Delivery(reply_id, delivered=False, rules=broken)
    await repository.record_reply(conn, seller_id, message, reply_id)
    replied = MessageReplied(message_id=message_id, reply_id=reply_id, order_id=message.order_id,
                             received_at=message.received_at, replied_at=at, due_by=message.reply_due_by,
                             minutes_to_reply=timing.minutes)
    await wire.stage(conn, seller_id, message_id, at, [replied])
    return Delivery(reply_id, delivered=True, minutes_to_reply=timing.minutes, on_time=timing.on_time)


async def mark_no_reply_needed(conn: asyncpg.Connection, seller_id: str, message_id: str, *, at: datetime) -> None:
    """The seller says the message needs no reply: `message.received` again, without a deadline."""
    message = await repository.MESSAGES.get(conn, seller_id, message_id, lock=True)
    if message is None:
        raise NotFound(f"no message {message_id} for this seller")
    require_not_before(at, not_before=message.received_at, what=f"message {message_id} marked no-reply-needed")
    message.mark_no_reply_needed()
    await repository.MESSAGES.update(conn, seller_id, message)
    again = MessageReceived(message_id=message_id, order_id=message.order_id, received_at=message.received_at,
                            needs_reply=False, due_by=None, marked_no_reply_needed_at=at)
    await wire.stage(conn, seller_id, message_id, at, [again])


async def send_about_order(
    conn: asyncpg.Connection, seller_id: str, order_id: str, text: str, *, at: datetime, policy: MessagePolicy,
    message_id: str | None = None,
) -> Delivery:
    """A message the seller starts about an order (a review request, a shipping note): screened first.
    `message_id`, the seller's own id for it, makes a repeated request harmless: it gets the first answer."""
    if await read_model.known_order(conn, seller_id, order_id) is None:
        raise NotFound(f"no order {order_id} for this seller")
    if message_id is not None and (sent := await _sent_before(conn, seller_id, message_id, order_id=order_id)):
        return Delivery(sent.message_id, sent.delivered, sent.rules)
    message_id = message_id or _new_id()
    broken = await _screen(conn, seller_id, message_id, order_id=order_id, in_reply_to=None, text=text, at=at,
                           policy=policy)
    return Delivery(message_id, delivered=not broken, rules=broken)


async def _screen(
    conn: asyncpg.Connection, seller_id: str, message_id: str, *, order_id: str | None, in_reply_to: str | None,
    text: str, at: datetime, policy: MessagePolicy,
) -> list[str]:
    """Check M1-M8, record the message; when it breaks a rule: `message.blocked` and `policy.violation`."""
    so_far = 0
    if order_id is not None:
        await read_model.known_order(conn, seller_id, order_id, lock=True)  # one seller message per order at a time
        so_far = await repository.review_requests_sent(conn, seller_id, order_id)
    broken, review_request = await run_check(_check, len(text), text, so_far, policy)
    rules = [rule.value for rule in broken]
    # The flag is what M8 counts later (the body is erased with the order's personal data).
    await repository.insert_seller_message(conn, seller_id, SellerMessage(
        message_id, order_id, in_reply_to, text, at, delivered=not broken, rules=rules,
        review_request=review_request,
    ))
    if broken:
        blocked = MessageBlocked(message_id=message_id, in_reply_to=in_reply_to, order_id=order_id, rules=rules)
        await wire.stage(conn, seller_id, message_id, at, [blocked])
        await wire.stage_violations(conn, seller_id, message_id, wire.violations(message_id, broken, at), at)
        log.info("seller message blocked", extra={"message_id": message_id, "rules": rules})
    return rules


def _check(text: str, so_far: int, policy: MessagePolicy) -> tuple[list[SellerMessageRule], bool]:
    """The rules the message breaks, and whether it asks for a review (pure CPU: see `run_check`)."""
    return check_seller_message(text, review_requests_so_far=so_far, policy=policy), is_review_request(text)


async def _sent_before(conn: asyncpg.Connection, seller_id: str, message_id: str, *, order_id: str | None = None,
                       in_reply_to: str | None = None) -> SellerMessage | None:
    """The seller's message sent before under this id; the id naming another message is refused."""
    sent = await repository.seller_message(conn, seller_id, message_id)
    if sent is not None and (sent.in_reply_to != in_reply_to or (order_id is not None and sent.order_id != order_id)):
        raise Refused(f"message id {message_id} was used for another message")
    return sent


def _new_id() -> str:
    return f"sm-{uuid.uuid4().hex}"
