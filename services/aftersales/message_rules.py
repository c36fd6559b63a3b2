"""Seller-message rules M1-M8 (domain.md section 5): which rules a message breaks. Pure, no I/O.

A message that breaks any rule is blocked; the seller is told which rules, and each broken rule
is a policy violation of the category and severity in `RULES`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from services.aftersales import message_patterns as p
from shared.events.common import PolicyCategory, Severity


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

_INVISIBLE: Final = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")
_SPACES: Final = re.compile(r"[^\S\n]+")
_SYMBOLS: Final = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2605": " star ", "\u2606": " star ", "\u2b50": " star ",  # "5\u2605" is "5 stars"
})


def normalise(text: str) -> str:
    """Undo the cheap disguises: full-width letters, zero-width characters, curly quotes, star symbols, odd spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(_SYMBOLS)
    return _SPACES.sub(" ", text)


def check_seller_message(
    text: str, *, review_requests_so_far: int, policy: MessagePolicy = DEFAULT_MESSAGE_POLICY
) -> list[SellerMessageRule]:
    """The rules `text` breaks, in rule order; empty when it may be delivered.

    `review_requests_so_far` is how many review requests the order already received (M8).
    """
    text = normalise(text)
    # An address contains a domain: blank it out so that it is M2 only, not M1 as well.
    without_emails = p.EMAIL.sub(" ", text)
    broken: list[SellerMessageRule] = []
    if _has_foreign_link(without_emails, policy.allowed_link_domains):
        broken.append(SellerMessageRule.LINK)
    if without_emails != text or _has_phone_number(without_emails):
        broken.append(SellerMessageRule.CONTACT_DETAILS)
    if p.MARKETING.search(text):
        broken.append(SellerMessageRule.MARKETING)
    if p.MENTIONS_REVIEW.search(text):
        broken.extend(_review_rules(text, review_requests_so_far, policy))
    return broken


def _review_rules(text: str, review_requests_so_far: int, policy: MessagePolicy) -> list[SellerMessageRule]:
    """M4-M8, for a message that mentions reviews at all."""
    broken: list[SellerMessageRule] = []
    if p.REVIEW_INCENTIVE.search(text):
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
    """Whether the message asks the buyer for a review or feedback (what M8 counts per order)."""
    return _asks_for_review(normalise(text))


def violations(broken: list[SellerMessageRule]) -> list[RuleSpec]:
    """The policy violation of each broken rule, in the same order."""
    return [RULES[rule] for rule in broken]


def _asks_for_review(text: str) -> bool:
    if not p.MENTIONS_REVIEW.search(text):
        return False
    text = p.THANKS.sub(" ", text)
    return any(
        pattern.search(text) for pattern in (p.REVIEW_REQUEST, p.REVIEW_INCENTIVE, p.POSITIVE_REVIEW_REQUEST)
    )


def _has_foreign_link(text: str, allowed_domains: tuple[str, ...]) -> bool:
    allowed = tuple(domain.lower().strip(".") for domain in allowed_domains)
    for match in p.LINK.finditer(text):
        host = _host_of(match.group(0))
        if not any(host == domain or host.endswith("." + domain) for domain in allowed):
            return True
    return False


def _host_of(link: str) -> str:
    """The host name a link points to, with disguised dots undone: "www . shop . com" -> www.shop.com."""
    rest = p.SCHEME.sub("", link)
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    authority = authority.rsplit("@", 1)[-1]  # "https://sellerflow.example@evil.com" goes to evil.com
    host = p.DOT_SEPARATOR.sub(".", authority).split(":", 1)[0]
    return re.sub(r"\s+", "", host).lower().strip(".,;!?)('\"")


def _has_phone_number(text: str) -> bool:
    text = p.REFERENCE_NUMBER.sub(" ", text)
    for shape in p.PHONES:
        for match in shape.pattern.finditer(text):
            digits = sum(character.isdigit() for character in match.group(shape.group))
            if shape.min_digits <= digits <= shape.max_digits:
                return True
    return False
