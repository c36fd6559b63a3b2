"""Pure inventory decisions (domain.md section 2): an order reserves stock, a cancellation
releases it, a shipment consumes it. Stock never goes negative.

`on_hand` counts the units the seller has; `reserved` those promised to unshipped orders;
`available` (on hand minus reserved) is what a new order may take.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from shared.events.common import ListingStatus, ReservationFailure


class InventoryError(Exception):
    """A request the inventory cannot carry out; the caller's input or state is wrong."""


class InvalidQuantity(InventoryError):
    pass


class NegativeStock(InventoryError):
    pass


class UnknownStock(InventoryError):
    pass


class ExceedsReservation(InventoryError):
    pass


@dataclass(frozen=True)
class StockLevel:
    listing_id: str
    on_hand: int
    reserved: int = 0
    status: ListingStatus = ListingStatus.ACTIVE

    def __post_init__(self) -> None:
        if self.reserved < 0 or self.on_hand < self.reserved:
            raise NegativeStock(
                f"listing {self.listing_id}: {self.on_hand} on hand cannot cover {self.reserved} reserved"
            )

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Line:
    listing_id: str
    quantity: int


@dataclass(frozen=True)
class Reservation:
    """The units an order still holds, one line per listing."""

    order_id: str
    lines: tuple[Line, ...]

    def quantity(self, listing_id: str) -> int:
        return sum(line.quantity for line in self.lines if line.listing_id == listing_id)


@dataclass(frozen=True)
class ReservationRefused:
    """Nothing was reserved; `reason` is the gravest problem, of `listing_id` if a listing's;
    `detail` names every problem."""

    order_id: str
    reason: ReservationFailure
    detail: str
    listing_id: str | None = None


@dataclass(frozen=True)
class StockUpdate:
    """The reservation as it now stands and the stock levels that changed."""

    reservation: Reservation
    stock: tuple[StockLevel, ...]


Stock = Mapping[str, StockLevel]

# Which failure a refusal reports when an order has several.
_PRIORITY = (
    ReservationFailure.SELLER_NOT_ACTIVE,
    ReservationFailure.UNKNOWN_LISTING,
    ReservationFailure.LISTING_INACTIVE,
    ReservationFailure.OUT_OF_STOCK,
)


def _merge(lines: Iterable[Line]) -> tuple[Line, ...]:
    """One line per listing (an order may name a listing twice); quantities must be positive."""
    totals: dict[str, int] = {}
    for line in lines:
        if line.quantity <= 0:
            raise InvalidQuantity(f"listing {line.listing_id}: quantity {line.quantity} is not positive")
        totals[line.listing_id] = totals.get(line.listing_id, 0) + line.quantity
    if not totals:
        raise InvalidQuantity("nothing to do: no lines")
    return tuple(Line(listing_id, quantity) for listing_id, quantity in totals.items())


def _level(stock: Stock, listing_id: str) -> StockLevel:
    try:
        return stock[listing_id]
    except KeyError:
        raise UnknownStock(f"no stock for listing {listing_id}") from None


def _line_problem(order_id: str, line: Line, level: StockLevel | None) -> ReservationRefused | None:
    def refused(reason: ReservationFailure, detail: str) -> ReservationRefused:
        return ReservationRefused(order_id, reason, detail, line.listing_id)

    if level is None:
        return refused(ReservationFailure.UNKNOWN_LISTING, f"listing {line.listing_id} does not exist")
    if level.status is not ListingStatus.ACTIVE:
        return refused(
            ReservationFailure.LISTING_INACTIVE, f"listing {line.listing_id} is {level.status.value}"
        )
    if level.available < line.quantity:
        detail = f"listing {line.listing_id}: {line.quantity} wanted, {level.available} available"
        return refused(ReservationFailure.OUT_OF_STOCK, detail)
    return None


def reserve(
    order_id: str, lines: Iterable[Line], stock: Stock, *, seller_may_sell: bool = True
) -> StockUpdate | ReservationRefused:
    """Reserve every line or none; a refusal is a business outcome, not an error."""
    merged = _merge(lines)
    problems = [
        problem for line in merged if (problem := _line_problem(order_id, line, stock.get(line.listing_id)))
    ]
    if not seller_may_sell:
        problems.insert(
            0, ReservationRefused(order_id, ReservationFailure.SELLER_NOT_ACTIVE, "the seller may not sell")
        )
    if problems:
        gravest = min(problems, key=lambda problem: _PRIORITY.index(problem.reason))
        return replace(gravest, detail="; ".join(problem.detail for problem in problems))
    levels = tuple(
        replace(stock[line.listing_id], reserved=stock[line.listing_id].reserved + line.quantity)
        for line in merged
    )
    return StockUpdate(Reservation(order_id, merged), levels)


def release(reservation: Reservation, stock: Stock) -> StockUpdate:
    """Give back every unit the order still holds (a cancellation before shipment)."""
    levels = []
    for line in reservation.lines:
        level = _level(stock, line.listing_id)
        levels.append(replace(level, reserved=level.reserved - line.quantity))
    return StockUpdate(Reservation(reservation.order_id, ()), tuple(levels))


def consume(reservation: Reservation, shipped: Iterable[Line], stock: Stock) -> StockUpdate:
    """Ship reserved units: they leave both the shelf and the reservation (partial shipments too)."""
    shipped_lines = _merge(shipped)
    levels = []
    for line in shipped_lines:
        held = reservation.quantity(line.listing_id)
        if line.quantity > held:
            raise ExceedsReservation(
                f"order {reservation.order_id}: {line.quantity} of {line.listing_id} shipped, {held} reserved"
            )
        level = _level(stock, line.listing_id)
        levels.append(
            replace(level, on_hand=level.on_hand - line.quantity, reserved=level.reserved - line.quantity)
        )
    shipped_by_listing = {line.listing_id: line.quantity for line in shipped_lines}
    remaining = tuple(
        Line(line.listing_id, left)
        for line in reservation.lines
        if (left := line.quantity - shipped_by_listing.get(line.listing_id, 0)) > 0
    )
    return StockUpdate(Reservation(reservation.order_id, remaining), tuple(levels))


def adjust(level: StockLevel, delta: int) -> StockLevel:
    """A stock count, a receipt or a write-off; refused if it would eat into reserved units."""
    on_hand = level.on_hand + delta
    if on_hand < level.reserved:
        raise NegativeStock(f"listing {level.listing_id}: {on_hand} units left, {level.reserved} reserved")
    return replace(level, on_hand=on_hand)


def set_available(level: StockLevel, quantity: int) -> StockLevel:
    """The seller states how many units are for sale; reserved units stay set aside."""
    if quantity < 0:
        raise InvalidQuantity(f"listing {level.listing_id}: quantity {quantity} is negative")
    return replace(level, on_hand=level.reserved + quantity)
