"""An order's lines and ship-to address, and how a stock reservation names every line's SKU.

A storefront line names a listing id or a seller SKU (or both). Shipments count units per SKU, so
a line without a SKU gets it from the listing service's `inventory.reserved`, which names the
listing and the SKU of every line it reserved. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from shared.pii import PostalAddress

#: The largest amount a wire `Money` carries: 12 digits and 2 decimal places.
MAX_AMOUNT = Decimal("999999999999.99")


class OrderError(Exception):
    """A domain rule refused the step: bad input, a deadline not reached, too many units."""


@dataclass(frozen=True)
class OrderLine:
    sku: str | None  # the seller SKU: from the storefront, or resolved by the reservation
    quantity: int
    unit_price: Decimal
    listing_id: str | None = None

    @property
    def key(self) -> str:
        """What names the line within its order: its SKU, else its listing."""
        return self.sku if self.sku is not None else f"listing {self.listing_id}"


@dataclass(frozen=True)
class ReservedLine:
    """A line as the listing service reserved it: `inventory.reserved` lines."""

    listing_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Reservation:
    lines: tuple[ReservedLine, ...]
    handling_days: int  # the largest handling days of the lines: sets ship-by
    country: str | None = None  # the seller's country: its public holidays are not business days


ShipTo = PostalAddress  # the buyer's address as the order keeps it


def malformations(lines: Sequence[OrderLine]) -> list[str]:
    """What makes a schema-valid order malformed (domain.md section 3). Never quotes buyer data."""
    problems = [] if lines else ["no lines"]
    for label, names in (("sku", [line.sku for line in lines]), ("listing", [line.listing_id for line in lines])):
        named = [name for name in names if name is not None]
        problems += [f"{label} {name} appears twice" for name in sorted(set(named)) if named.count(name) > 1]
    problems += ["a line names neither a listing nor a SKU" for line in lines
                 if line.sku is None and line.listing_id is None]
    problems += [f"{line.key}: quantity must be positive" for line in lines if line.quantity <= 0]
    problems += [f"{line.key}: negative price" for line in lines if line.unit_price < 0]
    if sum((line.unit_price * line.quantity for line in lines), Decimal(0)) > MAX_AMOUNT:
        problems.append(f"the total is over {MAX_AMOUNT}")
    return problems


def resolve(lines: Sequence[OrderLine], reserved: Sequence[ReservedLine]) -> tuple[OrderLine, ...]:
    """Each order line with its listing and SKU, matched to the reservation line by listing id (or,
    for a line without one, by SKU). The reservation must cover the order exactly."""
    by_listing = {line.listing_id: line for line in reserved}
    by_sku = {line.sku: line for line in reserved}
    if len(by_listing) != len(reserved) or len(by_sku) != len(reserved):
        raise OrderError("the reservation names a listing or a SKU twice")
    resolved: list[OrderLine] = []
    for line in lines:
        match = by_listing.get(line.listing_id) if line.listing_id is not None else by_sku.get(line.sku or "")
        if match is None:
            raise OrderError(f"the reservation has no line for {line.key}")
        if line.sku is not None and line.sku != match.sku:
            raise OrderError(f"{line.key}: the reservation names listing {match.listing_id} of another SKU")
        if match.quantity != line.quantity:
            raise OrderError(f"{line.key}: {match.quantity} reserved for {line.quantity} ordered")
        resolved.append(replace(line, listing_id=match.listing_id, sku=match.sku))
    if len({line.listing_id for line in resolved}) != len(reserved):
        raise OrderError("the reservation does not match the order's lines one to one")
    return tuple(resolved)


def check_shipment_lines(lines: dict[str, int], outstanding: dict[str, int]) -> None:
    if not lines:
        raise OrderError("a shipment needs at least one line")
    for sku, qty in lines.items():
        if sku not in outstanding:
            raise OrderError(f"sku {sku} is not in the order")
        if qty <= 0:
            raise OrderError(f"sku {sku}: shipped quantity must be positive")
        if qty > outstanding[sku]:
            raise OrderError(f"sku {sku}: {qty} shipped but only {outstanding[sku]} left to ship")
