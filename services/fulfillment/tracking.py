"""Tracking number validity (domain.md section 4): the declared carrier's format and check digit,
then a carrier scan within the scan window of the confirmation.

Formats and check digits (public vectors in the unit tests; the same rules as the carriers' own
label specifications and the jkeen/tracking_number_data catalogue):

- UPS: `1Z` + 15 alphanumerics + a check digit. Letters count as (ASCII - 63) mod 10 (A=2 ... I=0,
  J=1 ...); weights 1, 2, 1, 2 ... from the left, no digit sums; check = (10 - sum mod 10) mod 10.
- USPS IMpb: 20, 22 or 26 digits (the older 20-digit form, the 22-digit IMpb with a 6-digit
  mailer id, the 26-digit one with a 9-digit mailer id); GS1/USS mod-10, weights 3, 1, 3 ...
  from the right of the digits before the check digit.
- USPS international (UPU S10): 2 letters + 8 digits + check digit + 2-letter country; weights
  8 6 4 2 3 5 9 7; check = 11 - sum mod 11, where 10 -> 0 and 11 -> 5. Any country is accepted:
  an item posted abroad and delivered by USPS keeps its origin's suffix.
- FedEx Express: 12 digits; weights 3, 1, 7 repeating from the left on the first 11; check =
  (sum mod 11) mod 10.
- FedEx Ground: 15 digits (the tail of the 96-prefixed barcode); GS1 mod-10 as for USPS.
- DHL Express: 10 digits; check = the first 9 digits, as a number, mod 7.
- Marketplace carrier: `TBA` + 12 digits; no check digit exists.

Input is normalised first: whitespace dropped, letters upper-cased.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.events.common import Carrier, ScanStatus
from shared.events.fulfillment import TrackingVerdict


class TrackingStatus(StrEnum):
    PENDING = "pending"  # format valid, no carrier scan yet and the window still open
    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True)
class TrackingPolicy:
    scan_window: timedelta = timedelta(days=5)  # a carrier scan must come within this of confirmation
    # A label-created (pre_transit) event only says a label was printed, not that the carrier holds
    # the parcel, so it does not make a number valid (ours).
    counting_scans: frozenset[ScanStatus] = frozenset(ScanStatus) - {ScanStatus.PRE_TRANSIT}


DEFAULT_TRACKING_POLICY = TrackingPolicy()


@dataclass(frozen=True)
class TrackingCheck:
    valid: bool
    number: str  # normalised
    format: str | None  # the format that matched, e.g. "ups_1z"; None when none did
    reason: str | None = None  # why it is invalid


@dataclass(frozen=True)
class TrackingDecision:
    status: TrackingStatus
    verdict: TrackingVerdict | None = None  # None while pending
    reason: str | None = None  # human-readable detail of an invalid verdict
    first_scan_at: datetime | None = None


def ups_check_digit(body: str) -> int:
    """Check digit of the 15 characters between `1Z` and the check digit."""
    total = 0
    for index, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value * (2 if index % 2 else 1)
    return (10 - total % 10) % 10


def gs1_mod10_check_digit(digits: str) -> int:
    """GS1 / USS mod-10 (3-1 weighting from the right) of the digits before the check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of the 8-digit serial."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def fedex_express_check_digit(digits: str) -> int:
    """FedEx Express check digit of the first 11 digits."""
    total = sum(int(d) * w for d, w in zip(digits, (3, 1, 7) * 4, strict=False))
    return total % 11 % 10


def dhl_express_check_digit(digits: str) -> int:
    """DHL Express check digit of the first 9 digits."""
    return int(digits) % 7


@dataclass(frozen=True)
class _Format:
    name: str
    pattern: re.Pattern[str]
    described: str
    check: Callable[[str], bool] | None  # None: the format has no check digit


def _last_digit_is(compute: Callable[[str], int]) -> Callable[[str], bool]:
    return lambda number: compute(number[:-1]) == int(number[-1])


_FORMATS: dict[Carrier, tuple[_Format, ...]] = {
    Carrier.UPS: (
        _Format("ups_1z", re.compile(r"1Z[0-9A-Z]{15}[0-9]"), "1Z + 16 characters",
                lambda n: ups_check_digit(n[2:17]) == int(n[17])),
    ),
    Carrier.USPS: (
        _Format("usps_impb", re.compile(r"[0-9]{20}|[0-9]{22}|[0-9]{26}"), "20, 22 or 26 digits",
                _last_digit_is(gs1_mod10_check_digit)),
        _Format("usps_s10", re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}"), "2 letters + 9 digits + 2 letters",
                lambda n: s10_check_digit(n[2:10]) == int(n[10])),
    ),
    Carrier.FEDEX: (
        _Format("fedex_express_12", re.compile(r"[0-9]{12}"), "12 digits",
                _last_digit_is(fedex_express_check_digit)),
        _Format("fedex_ground_15", re.compile(r"[0-9]{15}"), "15 digits",
                _last_digit_is(gs1_mod10_check_digit)),
    ),
    Carrier.DHL: (
        _Format("dhl_express_10", re.compile(r"[0-9]{10}"), "10 digits",
                _last_digit_is(dhl_express_check_digit)),
    ),
    Carrier.MARKETPLACE: (
        _Format("marketplace_tba", re.compile(r"TBA[0-9]{12}"), "TBA + 12 digits", None),
    ),
}  # fmt: skip


def normalise_tracking_number(number: str) -> str:
    return "".join(number.split()).upper()


def check_tracking_number(carrier: Carrier, number: str) -> TrackingCheck:
    """Does the number match one of the declared carrier's formats, check digit included?"""
    normalised = normalise_tracking_number(number)
    formats = _FORMATS[carrier]
    for fmt in formats:
        if fmt.pattern.fullmatch(normalised) is None:
            continue
        if fmt.check is not None and not fmt.check(normalised):
            return TrackingCheck(False, normalised, fmt.name, f"check digit does not match ({fmt.name})")
        return TrackingCheck(True, normalised, fmt.name)
    expected = "; ".join(fmt.described for fmt in formats)
    return TrackingCheck(False, normalised, None, f"not a {carrier} tracking number: expected {expected}")


def marketplace_tracking_number(order_id: str) -> str:
    """`TBA` + 12 digits derived from the order id: the same order always gets the same number.

    12 digits of a hash collide by chance (about 0.5% odds across 100,000 orders), so scans
    should be matched on (carrier, number, seller), not on the number alone."""
    digest = hashlib.sha256(order_id.encode()).digest()
    return f"TBA{int.from_bytes(digest[:8], 'big') % 10**12:012d}"


def decide_tracking_status(
    check: TrackingCheck,
    *,
    confirmed_at: datetime,
    first_scan_at: datetime | None,
    now: datetime,
    policy: TrackingPolicy = DEFAULT_TRACKING_POLICY,
    at_tick: bool = True,
) -> TrackingDecision:
    """Pending until the first carrier scan; valid if it came within the window of confirmation;
    invalid on a bad number at once, and for want of a scan in the window only when judged at a clock
    tick at or after the window's end (`at_tick`; domain.md section 6, judged at ticks): a late first
    scan arriving between two ticks leaves the number pending until the tick judges it.

    The window is inclusive: a first scan exactly `scan_window` after confirmation still counts.
    A scan before confirmation counts too (carriers may scan before the seller confirms).
    """
    invalid, scanned = TrackingStatus.INVALID, first_scan_at
    if not check.valid:
        return TrackingDecision(invalid, TrackingVerdict.BAD_FORMAT, check.reason, scanned)
    deadline = confirmed_at + policy.scan_window
    if first_scan_at is not None and first_scan_at <= deadline:
        return TrackingDecision(TrackingStatus.VALID, TrackingVerdict.FIRST_SCAN, None, scanned)
    if not at_tick or now < deadline:
        return TrackingDecision(TrackingStatus.PENDING)
    if first_scan_at is not None:  # a late first scan is no scan within the window
        return TrackingDecision(invalid, TrackingVerdict.NO_SCAN, f"first scan after {deadline}", scanned)
    return TrackingDecision(invalid, TrackingVerdict.NO_SCAN, f"no carrier scan by {deadline}")
