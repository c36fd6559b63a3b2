"""Why a listing is active, inactive or suppressed (domain.md section 2): pure, no I/O.

A listing's status follows from four facts, so every use case derives it the same way:
suppressed when its content broke a rule; otherwise inactive when the seller paused it, an
enforcement holds it, or it has no units for sale; otherwise active. Stock running out through
orders does not change the status: a reservation then fails as out of stock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from shared.events.common import ListingStatus

PAUSED = "paused by the seller"
HELD = "deactivated by an enforcement on the account"
NO_STOCK = "no units for sale"


@dataclass(frozen=True)
class Standing:
    suppressed_by: tuple[str, ...] = ()  # the rule breaches of the content, if it broke any
    paused: bool = False
    held: bool = False  # deactivated by an enforcement on the account
    available: int = 0  # units for sale (not reserved)

    @property
    def status(self) -> ListingStatus:
        if self.suppressed_by:
            return ListingStatus.SUPPRESSED
        if self.paused or self.held or self.available <= 0:
            return ListingStatus.INACTIVE
        return ListingStatus.ACTIVE

    @property
    def reasons(self) -> tuple[str, ...]:
        """Everything that keeps the listing from being buyable (empty when active)."""
        why = [*self.suppressed_by]
        why += [PAUSED] if self.paused else []
        why += [HELD] if self.held else []
        why += [NO_STOCK] if self.available <= 0 else []
        return tuple(why)

    def pause(self) -> Standing:
        return replace(self, paused=True)

    def resume(self) -> Standing:
        return replace(self, paused=False)
