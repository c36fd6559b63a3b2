"""Seller-message rules M1-M8 (domain.md section 5): which rules a message breaks. Pure, no I/O.

The message is folded first (`shared.text.fold`: zero-width characters, look-alike letters and
full-width forms undone) and every pattern is RE2, so a check is linear in the message.

A message that breaks any rule is blocked; the seller is told which rules, and each broken rule
is a policy violation of the category and severity in `RULES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from services.aftersales import message_patterns as p
from shared.contact import find_contact_details, foreign_links
from shared.events.common import PolicyCategory, Severity
from shared.text import blank, fold


class SellerMessageRule(StrEnum):
    LINK = "M1"
    CONTACT_DETAILS = "M2"
    MARKETING = "M3"
    REVIEW_INCENTIVE = "M4"
    POSITIVE_REVIEW_REQUEST = "M5"
    CONTACT_BEFORE_REVIEW = "M6"
    REVIEW_CHANGE_REQUEST = "M7"
    REPEATED_REVIEW_REQUEST = "M8"


@dataclass(frozen=True)
class RuleSpec:
    category: PolicyCategory
    severity: Severity
    description: str


_MESSAGING_LOW = (PolicyCategory.MESSAGING, Severity.LOW)
_REVIEW_HIGH = (PolicyCategory.REVIEW, Severity.HIGH)

#: What breaking each rule means: M1-M3 and M8 a messaging violation (low), M4-M7 a review one (high).
RULES: Final[Mapping[SellerMessageRule, RuleSpec]] = MappingProxyType(
    {
        SellerMessageRule.LINK: RuleSpec(*_MESSAGING_LOW, "no links, except to the marketplace's own pages"),
        SellerMessageRule.CONTACT_DETAILS: RuleSpec(*_MESSAGING_LOW, "no e-mail addresses or phone numbers"),
        SellerMessageRule.MARKETING: RuleSpec(*_MESSAGING_LOW, "no marketing, coupons or other products"),
        SellerMessageRule.REVIEW_INCENTIVE: RuleSpec(*_REVIEW_HIGH, "no incentive for a review or feedback"),
        SellerMessageRule.POSITIVE_REVIEW_REQUEST: RuleSpec(
            *_REVIEW_HIGH, "no request for a positive review, or for reviews only from happy buyers"
        ),
        SellerMessageRule.CONTACT_BEFORE_REVIEW: RuleSpec(
            *_REVIEW_HIGH, "no request to contact the seller before leaving a review"
        ),
        SellerMessageRule.REVIEW_CHANGE_REQUEST: RuleSpec(
            *_REVIEW_HIGH, "no request to change or remove a review"
        ),
        SellerMessageRule.REPEATED_REVIEW_REQUEST: RuleSpec(
            *_MESSAGING_LOW, "at most one review request per order"
        ),
    }
)


@dataclass(frozen=True)
class MessagePolicy:
    """Settings of the message rules."""

    #: Links to these hosts and their subdomains are the marketplace's own pages (M1).
    allowed_link_domains: tuple[str, ...] = ("sellerflow.example",)
    #: Review requests an order may receive (M8).
    max_review_requests_per_order: int = 1


DEFAULT_MESSAGE_POLICY: Final = MessagePolicy()


def check_seller_message(
    text: str, *, review_requests_so_far: int, policy: MessagePolicy = DEFAULT_MESSAGE_POLICY
) -> list[SellerMessageRule]:
    """The rules `text` breaks, in rule order; empty when it may be delivered.

    `review_requests_so_far` is how many review requests the order already received (M8).
    """
    contact = find_contact_details(fold(text, casefold=False))
    folded = fold(text)
    broken: list[SellerMessageRule] = []
    if foreign_links(contact, policy.allowed_link_domains):
        broken.append(SellerMessageRule.LINK)
    if contact.emails or contact.phones:
        broken.append(SellerMessageRule.CONTACT_DETAILS)
    if p.MARKETING.search(folded):
        broken.append(SellerMessageRule.MARKETING)
    if p.MENTIONS_REVIEW.search(folded):
        broken.extend(_review_rules(blank(p.NOT_A_REVIEW, folded), review_requests_so_far, policy))
    return broken


def _review_rules(text: str, review_requests_so_far: int, policy: MessagePolicy) -> list[SellerMessageRule]:
    """M4-M8, for a message that mentions reviews at all."""
    broken: list[SellerMessageRule] = []
    if p.REVIEW_INCENTIVE.search(blank(p.NOT_AN_INCENTIVE, text)):
        broken.append(SellerMessageRule.REVIEW_INCENTIVE)
    if p.POSITIVE_REVIEW_REQUEST.search(text):
        broken.append(SellerMessageRule.POSITIVE_REVIEW_REQUEST)
    if p.CONTACT_BEFORE_REVIEW.search(text):
        broken.append(SellerMessageRule.CONTACT_BEFORE_REVIEW)
    if p.CHANGE_REVIEW.search(text):
        broken.append(SellerMessageRule.REVIEW_CHANGE_REQUEST)
    if review_requests_so_far >= policy.max_review_requests_per_order and _asks_for_review(text):
        broken.append(SellerMessageRule.REPEATED_REVIEW_REQUEST)
    return broken


def is_review_request(text: str) -> bool:
    """Whether the message asks the buyer for a review or feedback (what M8 counts per order): a plain
    request, or one that M4, M5 or M6 forbids, in any of the languages the rules know."""
    folded = fold(text)
    return bool(p.MENTIONS_REVIEW.search(folded)) and _asks_for_review(blank(p.NOT_A_REVIEW, folded))


def violations(broken: list[SellerMessageRule]) -> list[RuleSpec]:
    """The policy violation of each broken rule, in the same order."""
    return [RULES[rule] for rule in broken]


def _asks_for_review(text: str) -> bool:
    text = blank(p.THANKS, text)
    return any(
        pattern.search(text)
        for pattern in (p.REVIEW_REQUEST, p.REVIEW_INCENTIVE, p.POSITIVE_REVIEW_REQUEST, p.CONTACT_BEFORE_REVIEW)
    )
