"""Buyer personal data (domain.md section 8): the one postal address the order service keeps, and how
the buyer's part of it, or a buyer's free text, travels sealed with the order's data key (shared.crypto).

What finds the buyer (name, street lines, postal code, phone) is personal; city, region and country
stay in the clear and are kept after erasure. A sealed value is bound to its seller, order and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from shared.crypto import DataKey, Sealed, seal, unseal


@dataclass(frozen=True)
class PostalAddress:
    name: str | None
    lines: tuple[str, ...]
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None = None

    def erased(self) -> PostalAddress:
        """What is kept once the buyer's data is erased: city, region and country, nothing that finds the buyer."""
        return replace(self, name=None, lines=(), postal_code=None, phone=None)


def order_context(seller_id: str, order_id: str, field: str) -> str:
    """What a sealed value of an order is bound to: it opens for this seller, order and field only."""
    return json.dumps([seller_id, order_id, field])


def seal_personal(key: DataKey, address: PostalAddress, *, context: str) -> Sealed:
    """The personal part of an address (name, street lines, postal code, phone), sealed."""
    personal = {"name": address.name, "lines": list(address.lines), "postal_code": address.postal_code,
                "phone": address.phone}
    return seal(key, json.dumps(personal, ensure_ascii=False).encode(), context=context)


def open_personal(key: DataKey, kept: PostalAddress, sealed: Sealed, *, context: str) -> PostalAddress:
    """The whole address again: the kept part with its sealed personal part opened."""
    personal = json.loads(unseal(key, sealed, context=context))
    return replace(kept, name=personal["name"], lines=tuple(personal["lines"]),
                   postal_code=personal["postal_code"], phone=personal["phone"])


def seal_text(key: DataKey, text: str, *, context: str) -> Sealed:
    """A buyer's free text (a cancellation reason), sealed."""
    return seal(key, text.encode(), context=context)


def open_text(key: DataKey, sealed: Sealed, *, context: str) -> str:
    return unseal(key, sealed, context=context).decode()
