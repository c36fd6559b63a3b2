"""Buyer personal data (domain.md section 8): the one postal address the order and fulfillment services keep."""

from __future__ import annotations

from dataclasses import dataclass, replace


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
