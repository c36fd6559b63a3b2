"""Listing content rules L1-L9 (domain.md section 2): pure checks, every broken rule named.

The phrase tables live in `listing_patterns` (the one place to extend a rule); this module applies
them and checks titles, duplicates and field values. Texts are folded first (`shared.text.fold`:
no zero-width or look-alike tricks) and every text check is RE2, linear in the text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from urllib.parse import urlsplit

from services.listing import listing_patterns as patterns
from shared.contact import find_contact_details
from shared.events.common import Condition, FulfillmentChannel, PolicyCategory, Severity
from shared.text import AnyOf, Pattern, blank, fold, found, in_original, matches


class Rule(StrEnum):
    L1 = "L1"  # title length, not all capitals
    L2 = "L2"  # promotional claims in the title
    L3 = "L3"  # sales-rank claims
    L4 = "L4"  # contact details or links
    L5 = "L5"  # price, stock or shipping offers in text
    L6 = "L6"  # HTML other than <br>
    L7 = "L7"  # reviews, testimonials, review requests
    L8 = "L8"  # duplicate detail page
    L9 = "L9"  # field values: product id, price, quantity, handling days, images


#: Which broken rules are also a policy violation, and how grave.
POLICY_VIOLATIONS: Mapping[Rule, tuple[PolicyCategory, Severity] | None] = MappingProxyType(
    {
        Rule.L1: None,
        Rule.L2: None,
        Rule.L3: (PolicyCategory.LISTING, Severity.MEDIUM),
        Rule.L4: (PolicyCategory.LISTING, Severity.MEDIUM),
        Rule.L5: None,
        Rule.L6: None,
        Rule.L7: (PolicyCategory.REVIEW, Severity.HIGH),
        Rule.L8: None,
        Rule.L9: None,
    }
)


@dataclass(frozen=True)
class ListingRulesConfig:
    title_max_length: int = 200
    # Fewer capital letters than this is an acronym ("4K TV"), not shouting. (ours)
    all_caps_min_letters: int = 5
    handling_days_min: int = 1
    handling_days_max: int = 30
    # Prices must stay below the ceiling of their category (ours: domain.md gives no figure).
    default_price_ceiling: Decimal = Decimal("100000")
    price_ceilings: Mapping[str, Decimal] = field(default_factory=dict, hash=False)

    def price_ceiling(self, category: str | None) -> Decimal:
        return self.price_ceilings.get(category or "", self.default_price_ceiling)


@dataclass(frozen=True)
class ListingDraft:
    seller_sku: str
    product_id: str
    title: str
    brand: str
    description: str
    bullet_points: tuple[str, ...]
    condition: Condition
    price: Decimal
    currency: str
    quantity: int
    handling_days: int
    fulfillment_channel: FulfillmentChannel
    image_urls: tuple[str, ...]
    category: str | None = None


@dataclass(frozen=True)
class RuleBreach:
    rule: Rule
    field: str
    message: str


@dataclass(frozen=True)
class ListingReview:
    breaches: tuple[RuleBreach, ...]

    @property
    def accepted(self) -> bool:
        return not self.breaches

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(sorted({breach.rule for breach in self.breaches}))

    @property
    def policy_violations(self) -> tuple[tuple[Rule, PolicyCategory, Severity], ...]:
        return tuple((rule, *policy) for rule in self.rules if (policy := POLICY_VIOLATIONS[rule]))


#: The seller's listings already on file: (product id, condition) pairs, or a predicate over them.
ExistingListings = Collection[tuple[str, Condition]] | Callable[[str, Condition], bool]

DEFAULT_CONFIG = ListingRulesConfig()

#: Small capital letters ("ᴡɪᴛʜ") look like capitals in a title.
_SMALL_CAPITALS = frozenset(
    chr(code) for code in range(0x1D00, 0x1D2C) if "SMALL CAPITAL" in unicodedata.name(chr(code), "")
) | frozenset("ʙɢʜɪʟɴʀʏ")


#: Phrase rules over folded text: (rule, pattern, what a match is, title only?). L4 is `shared.contact`.
_PHRASE_RULES: tuple[tuple[Rule, Pattern | AnyOf, str, bool], ...] = (
    (Rule.L2, patterns.PROMOTIONAL, "promotional claim", True),
    (Rule.L3, patterns.SALES_RANK, "sales-rank claim", False),
    (Rule.L5, patterns.OFFERS, "price, stock or shipping offer", False),
    (Rule.L7, patterns.REVIEWS, "review or testimonial", False),
)
#: What looks like a rule's phrase and is not ("Sale Street", "please review the size chart").
_NOT_MATCHES: Mapping[Rule, Pattern] = MappingProxyType({Rule.L2: patterns.NOT_A_SALE, Rule.L7: patterns.NOT_A_REVIEW})


def gtin_problem(code: str) -> str | None:
    """None for a valid GTIN-8/12/13/14, else why not (GS1 mod-10 check digit, weights 3 and 1)."""
    if not (code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14)):
        return "must be 8, 12, 13 or 14 digits"
    if not code.strip("0"):
        return "must not be all zeros"
    body = [int(digit) for digit in reversed(code[:-1])]
    total = sum(digit * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body))
    return None if (10 - total % 10) % 10 == int(code[-1]) else "has a wrong check digit"


def normalize_gtin(code: str) -> str:
    """GTIN-14 form: a UPC-A and its EAN-13 with a leading zero are one product."""
    return code.zfill(14) if code.isdigit() else code


def _texts(draft: ListingDraft) -> Iterator[tuple[str, str]]:
    yield "title", draft.title
    yield "brand", draft.brand
    yield "description", draft.description
    for index, bullet in enumerate(draft.bullet_points):
        yield f"bullet_points[{index}]", bullet


def _check_title(title: str, config: ListingRulesConfig) -> list[RuleBreach]:
    length = len(title.strip())
    visible = len(fold(title).strip())  # zero-width characters and blank letters show nothing
    if visible < 1 or length > config.title_max_length:
        message = f"the title must have 1-{config.title_max_length} characters, it has {min(visible, length)}"
        return [RuleBreach(Rule.L1, "title", message)]
    if _shouts(title, config):
        return [RuleBreach(Rule.L1, "title", "the title must not be all capitals")]
    return []


def _shouts(title: str, config: ListingRulesConfig) -> bool:
    """All letters capitals (full-width and small capitals too), and enough of them to be more than an acronym."""
    letters = [char for char in unicodedata.normalize("NFKC", title) if char.isalpha()]
    capitals = sum(char.isupper() or char in _SMALL_CAPITALS for char in letters)
    return bool(letters) and capitals == len(letters) and capitals >= config.all_caps_min_letters


def _check_text(draft: ListingDraft) -> list[RuleBreach]:
    breaches = []
    for name, text in _texts(draft):
        folded = fold(text)
        for rule, pattern, what, title_only in _PHRASE_RULES:
            if title_only and name != "title":
                continue
            searched = blank(_NOT_MATCHES[rule], folded) if rule in _NOT_MATCHES else folded
            if phrases := found(pattern, searched):
                shown = ", ".join(map(repr, in_original(text, folded, phrases)))
                breaches.append(RuleBreach(rule, name, f"{what}: {shown}"))
        if contact := find_contact_details(fold(text, casefold=False)):
            breaches.append(RuleBreach(Rule.L4, name, f"contact details or link: {', '.join(map(repr, contact.all))}"))
        if tags := _tags(folded):
            breaches.append(RuleBreach(Rule.L6, name, f"HTML other than <br>: {', '.join(tags)}"))
    return breaches


def _tags(folded: str) -> list[str]:
    for entity, char in patterns.ENTITIES.items():  # "&lt;b&gt;" is a tag to a page that decodes twice
        folded = folded.replace(entity, char)
    return list(dict.fromkeys(matches(patterns.TAG, blank(patterns.ALLOWED_TAG, folded))))


def _is_duplicate(draft: ListingDraft, existing: ExistingListings) -> bool:
    key = normalize_gtin(draft.product_id)
    if callable(existing):
        return existing(key, draft.condition)
    return any(
        normalize_gtin(product) == key and condition == draft.condition for product, condition in existing
    )


def _check_values(draft: ListingDraft, config: ListingRulesConfig) -> list[RuleBreach]:
    breaches = []
    if problem := gtin_problem(draft.product_id):
        breaches.append(RuleBreach(Rule.L9, "product_id", f"the product id (GTIN) {problem}"))
    ceiling = config.price_ceiling(draft.category)
    if not (draft.price.is_finite() and Decimal(0) < draft.price < ceiling):
        breaches.append(RuleBreach(Rule.L9, "price", f"the price must be above 0 and below {ceiling}"))
    if draft.quantity < 0:
        breaches.append(RuleBreach(Rule.L9, "quantity", "the quantity must not be negative"))
    low, high = config.handling_days_min, config.handling_days_max
    if not low <= draft.handling_days <= high:
        breaches.append(RuleBreach(Rule.L9, "handling_days", f"handling days must be {low}-{high}"))
    if not draft.image_urls:
        breaches.append(RuleBreach(Rule.L9, "image_urls", "at least one image is required"))
    insecure = [url for url in draft.image_urls if not _is_https_url(url)]
    if insecure:
        breaches.append(
            RuleBreach(Rule.L9, "image_urls", f"images must be https URLs: {', '.join(insecure)}")
        )
    return breaches


def _is_https_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not any(char.isspace() for char in url)


def check_listing(
    draft: ListingDraft, *, existing: ExistingListings = (), config: ListingRulesConfig = DEFAULT_CONFIG
) -> ListingReview:
    """Every broken rule of a new or updated listing; `existing` excludes the listing being updated."""
    breaches = _check_title(draft.title, config) + _check_text(draft)
    if _is_duplicate(draft, existing):
        message = f"this seller already lists product {draft.product_id} in condition {draft.condition.value}"
        breaches.append(RuleBreach(Rule.L8, "product_id", message))
    breaches += _check_values(draft, config)
    return ListingReview(tuple(sorted(breaches, key=lambda breach: breach.rule)))
