"""Business days (domain.md section 3): the calendars the order and fulfillment services share.

`BusinessCalendar` is the one of promises: Saturday, Sunday and the public holidays of the seller's
country (the `holidays` package's calendar) are not business days, judged on UTC dates, and a
deadline is the end (24:00 UTC) of a business day, counted as Seller Central counts handling time.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import holidays

_DAY = timedelta(days=1)

#: `datetime.weekday()` numbers of the days that do not elapse: Saturday and Sunday.
WEEKEND: frozenset[int] = frozenset({5, 6})


def check_weekend(weekend_days: frozenset[int]) -> None:
    """Weekend days are weekday numbers 0-6, and at least one day must be a business day."""
    if not weekend_days <= set(range(7)) or len(weekend_days) >= 7:
        raise ValueError(f"weekend days must be a proper subset of 0-6, got {sorted(weekend_days)}")


def to_utc(value: datetime) -> datetime:
    """Business time is unambiguous: naive datetimes are refused, aware ones normalised to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: business time must carry a zone")
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=512)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of a country (ISO 3166-1 alpha-2) in a year; none for a country the
    `holidays` package does not know (weekends alone then)."""
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


@dataclass(frozen=True)
class BusinessCalendar:
    """A seller's business days: not a weekend day, not a public holiday of its country.

    `added` are further days off (a marketplace-wide closure), `removed` holidays that are worked
    here anyway; both are settings (HOLIDAYS_ADD, HOLIDAYS_REMOVE). Pure: no clock, no I/O.
    """

    country: str | None = None
    weekend_days: frozenset[int] = WEEKEND
    added: frozenset[date] = frozenset()
    removed: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        check_weekend(self.weekend_days)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() in self.weekend_days or day in self.added:
            return False
        holiday = self.country is not None and day in public_holidays(self.country, day.year)
        return not holiday or day in self.removed

    def first_business_day(self, day: date) -> date:
        """`day` itself if it is a business day, else the next one."""
        for _ in range(_MAX_SEARCH):
            if self.is_business_day(day):
                return day
            day += _DAY
        raise ValueError(f"no business day within {_MAX_SEARCH} days of {day}")

    def business_days_after(self, day: date, days: int) -> date:
        """The business day that lies `days` business days after the business day `day`."""
        if days < 0:
            raise ValueError(f"business days must not be negative, got {days}")
        for _ in range(days):
            day = self.first_business_day(day + _DAY)
        return day

    def deadline(self, start: datetime, days: int) -> datetime:
        """The end (24:00 UTC) of the business day `days` business days after the first business day
        of `start`: a Friday order with one handling day ships by Monday 24:00, a Saturday one by
        Tuesday 24:00."""
        return end_of_day(self.business_days_after(self.first_business_day(to_utc(start).date()), days))

    def deadline_after_day(self, deadline: datetime, days: int) -> datetime:
        """The end of the business day `days` business days after the day a deadline ends (deliver-by
        from ship-by): `deadline` is a day's end, so its day is the one before the instant."""
        day = (to_utc(deadline) - timedelta(microseconds=1)).date()
        return end_of_day(self.business_days_after(self.first_business_day(day), days))


#: Longer than any run of holidays and weekends: a calendar with no business day is a setting error.
_MAX_SEARCH = 366


def end_of_day(day: date) -> datetime:
    """24:00 UTC of `day`, i.e. the first instant of the next day."""
    return datetime.combine(day + _DAY, time(0), UTC)


def parse_dates(text: str, country: str | None) -> frozenset[date]:
    """`2026-12-24,US:2026-12-31` -> the dates that apply to `country` (a bare date applies to all)."""
    found: set[date] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        where, _, when = item.rpartition(":")
        if where and where.upper() != (country or "").upper():
            continue
        found.add(date.fromisoformat(when))
    return frozenset(found)

