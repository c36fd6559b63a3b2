"""The content-rule corpus (tests/corpus/*.yaml) and the verdict of the rules on each entry.

Shared by the corpus tests and bench/content_rules.py (catch and false-positive rates per rule).
An entry is an evasion (it must break its `rule`) or a legitimate text (it must break no text rule).
`miss: true` marks an entry the rules are known to get wrong: kept, counted, and asserted as wrong,
so that a fix shows up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import yaml

from services.aftersales.message_rules import check_seller_message
from services.listing.listing_rules import ListingDraft, Rule, check_listing
from shared.events.common import Condition, FulfillmentChannel

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

_CLEAN_DRAFT = ListingDraft(
    seller_sku="SKU-1",
    product_id="4006381333931",
    title="Stoneware Coffee Mug, 350 ml, Blue",
    brand="Kiln & Co",
    description="A glazed stoneware mug.",
    bullet_points=("Holds 350 ml",),
    condition=Condition.NEW,
    price=Decimal("12.50"),
    currency="EUR",
    quantity=40,
    handling_days=2,
    fulfillment_channel=FulfillmentChannel.MERCHANT,
    image_urls=("https://img.example-cdn.com/mug.jpg",),
)


def clean_draft() -> ListingDraft:
    """A listing that breaks no rule, to put one text into."""
    return _CLEAN_DRAFT


_TEXT_RULES = {Rule.L1, Rule.L2, Rule.L3, Rule.L4, Rule.L5, Rule.L6, Rule.L7}


@dataclass(frozen=True)
class Entry:
    kind: str  # "listing" or "message"
    text: str
    rule: str | None  # the rule an evasion must break; None for a legitimate text
    field: str = "description"  # listing: title, description or bullet
    so_far: int = 0  # message: review requests the order already received
    lang: str = "en"
    miss: bool = False
    batch: int = 1  # 1: written before the matcher; 2: after, from its weak spots

    @property
    def id(self) -> str:
        return f"{self.rule or 'ok'}:{self.field if self.kind == 'listing' else 'msg'}:{self.text[:40]!r}"


def load(name: str, kind: str) -> list[Entry]:
    raw = yaml.safe_load((CORPUS / name).read_text("utf-8"))
    return [
        Entry(kind, item["text"], item.get("rule"), item.get("field", "description"), item.get("so_far", 0),
              item.get("lang", "en"), item.get("miss", False), item.get("batch", 1))
        for item in raw
    ]


def evasions() -> list[Entry]:
    return load("listing_evasions.yaml", "listing") + load("message_evasions.yaml", "message")


def legitimate() -> list[Entry]:
    return load("listing_legit.yaml", "listing") + load("message_legit.yaml", "message")


def broken_rules(entry: Entry) -> set[str]:
    """The text rules the entry's text breaks, put where the entry says."""
    if entry.kind == "message":
        return {rule.value for rule in check_seller_message(entry.text, review_requests_so_far=entry.so_far)}
    if entry.field == "title":
        draft = replace(_CLEAN_DRAFT, title=entry.text)
    elif entry.field == "bullet":
        draft = replace(_CLEAN_DRAFT, bullet_points=(entry.text,))
    else:
        draft = replace(_CLEAN_DRAFT, description=entry.text)
    return {rule.value for rule in check_listing(draft).rules if rule in _TEXT_RULES}


def verdict_holds(entry: Entry) -> bool:
    """An evasion is caught (its rule is broken); a legitimate text passes (no rule is broken)."""
    broken = broken_rules(entry)
    return entry.rule in broken if entry.rule else not broken
