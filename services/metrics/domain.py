"""Pure metric arithmetic: folding order facts into daily buckets, and windows over those buckets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class OrderFact:
    seller_id: str
    order_id: str
    purchased_at: datetime
    fulfillment_channel: str
    currency: str
    total: Decimal
    units: int

    @property
    def day(self) -> date:
        return self.purchased_at.date()  # UTC: purchased_at is always UTC


@dataclass
class SalesBucket:
    orders: int = 0
    units: int = 0
    gross: Decimal = Decimal("0")


BucketKey = tuple[str, date, str]  # seller, day, currency


def fold_sales(facts: Iterable[OrderFact]) -> dict[BucketKey, SalesBucket]:
    """The daily sales increments of a set of newly seen orders."""
    buckets: dict[BucketKey, SalesBucket] = {}
    for fact in facts:
        bucket = buckets.setdefault((fact.seller_id, fact.day, fact.currency), SalesBucket())
        bucket.orders += 1
        bucket.units += fact.units
        bucket.gross += fact.total
    return buckets


def window(now: datetime, days: int) -> tuple[date, date]:
    """The `days` business days ending with today, both ends included: (first, last)."""
    last = now.date()
    return last - timedelta(days=days - 1), last


@dataclass(frozen=True)
class SalesFigures:
    orders: int
    units: int
    gross: dict[str, Decimal]  # by currency: a seller may sell in several

    @property
    def average_order_value(self) -> dict[str, Decimal]:
        """Per currency, when the seller sells in one; otherwise orders cannot be split fairly: empty."""
        if len(self.gross) != 1 or not self.orders:
            return {}
        currency, amount = next(iter(self.gross.items()))
        return {currency: (amount / self.orders).quantize(Decimal("0.01"))}


def sum_window(rows: Iterable[tuple[date, str, int, int, Decimal]], first: date, last: date) -> SalesFigures:
    """Total the daily buckets (day, currency, orders, units, gross) inside [first, last]."""
    orders = units = 0
    gross: dict[str, Decimal] = {}
    for day, currency, day_orders, day_units, day_gross in rows:
        if first <= day <= last:
            orders += day_orders
            units += day_units
            gross[currency] = gross.get(currency, Decimal("0")) + day_gross
    return SalesFigures(orders, units, gross)
