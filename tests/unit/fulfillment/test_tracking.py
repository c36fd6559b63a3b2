"""Tracking number formats, check digits and the pending/valid/invalid decision
(services/fulfillment/tracking.py).

Valid vectors are public: carrier documentation examples and the test numbers of the
jkeen/tracking_number_data catalogue, each re-checked here by the algorithm itself.
"""

from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment.tracking import (
    TrackingCheck,
    TrackingPolicy,
    TrackingStatus,
    check_tracking_number,
    decide_tracking_status,
    dhl_express_check_digit,
    fedex_express_check_digit,
    gs1_mod10_check_digit,
    marketplace_tracking_number,
    s10_check_digit,
    ups_check_digit,
)
from shared.events.common import Carrier
from shared.events.fulfillment import TrackingVerdict

VALID: list[tuple[Carrier, str, str]] = [
    (Carrier.UPS, "1Z999AA10123456784", "ups_1z"),
    (Carrier.UPS, "1Z5R89390357567127", "ups_1z"),
    (Carrier.UPS, "1Z879E930346834440", "ups_1z"),
    (Carrier.UPS, "1Z410E7W0392751591", "ups_1z"),
    (Carrier.USPS, "9205590164917312751089", "usps_impb"),
    (Carrier.USPS, "9400111201080805483016", "usps_impb"),
    (Carrier.USPS, "9361289878700317633795", "usps_impb"),
    (Carrier.USPS, "03071790000523483741", "usps_impb"),  # the older 20-digit form
    (Carrier.USPS, "92748931507708513018050063", "usps_impb"),  # 9-digit mailer id
    (Carrier.USPS, "RA123456785US", "usps_s10"),
    (Carrier.USPS, "EE123456785US", "usps_s10"),
    (Carrier.USPS, "RB123456785GB", "usps_s10"),
    (Carrier.FEDEX, "986578788855", "fedex_express_12"),
    (Carrier.FEDEX, "477179081230", "fedex_express_12"),
    (Carrier.FEDEX, "799531274483", "fedex_express_12"),
    (Carrier.FEDEX, "449044304137821", "fedex_ground_15"),
    (Carrier.FEDEX, "041441760228964", "fedex_ground_15"),
    (Carrier.FEDEX, "568283610012000", "fedex_ground_15"),
    (Carrier.DHL, "3318810025", "dhl_express_10"),
    (Carrier.DHL, "8487135506", "dhl_express_10"),
    (Carrier.DHL, "1099255990", "dhl_express_10"),
    (Carrier.DHL, "3821724944", "dhl_express_10"),
    (Carrier.MARKETPLACE, "TBA000000000000", "marketplace_tba"),
    (Carrier.MARKETPLACE, "TBA502887274000", "marketplace_tba"),
]
WITH_CHECK_DIGIT = [v for v in VALID if v[0] is not Carrier.MARKETPLACE]
# Schemes in which every single-digit change moves the check digit: the mod-10 ones (weights
# 1/2 or 1/3, and a +1 change) and DHL's mod-7. S10 and FedEx Express reduce mod 11 to one digit,
# so a few single changes collide; for them only the check digit itself is flipped.
EVERY_DIGIT_GUARDED = [v for v in WITH_CHECK_DIGIT if v[2] not in ("usps_s10", "fedex_express_12")]


def flip(number: str, index: int) -> str:
    return number[:index] + str((int(number[index]) + 1) % 10) + number[index + 1 :]


def last_digit_index(number: str) -> int:
    return max(i for i, c in enumerate(number) if c.isdigit())


@pytest.mark.parametrize(("carrier", "number", "fmt"), VALID, ids=[v[1] for v in VALID])
def test_a_known_valid_number_is_valid_for_its_carrier(carrier: Carrier, number: str, fmt: str) -> None:
    assert check_tracking_number(carrier, number) == TrackingCheck(True, number, fmt)


@pytest.mark.parametrize(("carrier", "number", "fmt"), WITH_CHECK_DIGIT, ids=[v[1] for v in WITH_CHECK_DIGIT])
def test_flipping_the_check_digit_makes_a_number_invalid(carrier: Carrier, number: str, fmt: str) -> None:
    result = check_tracking_number(carrier, flip(number, last_digit_index(number)))
    assert not result.valid
    assert result.reason == f"check digit does not match ({fmt})"


@pytest.mark.parametrize(
    ("carrier", "number", "fmt"), EVERY_DIGIT_GUARDED, ids=[v[1] for v in EVERY_DIGIT_GUARDED]
)
def test_flipping_any_one_digit_makes_a_number_invalid(carrier: Carrier, number: str, fmt: str) -> None:
    for index, char in enumerate(number):
        if char.isdigit() and not (fmt == "ups_1z" and index < 2):
            assert not check_tracking_number(carrier, flip(number, index)).valid, (number, index)


def test_the_widely_copied_usps_placeholder_fails_its_check_digit() -> None:
    # 9400111899223197428490 appears in many docs and fixtures; its check digit would be 7.
    assert not check_tracking_number(Carrier.USPS, "9400111899223197428490").valid
    assert check_tracking_number(Carrier.USPS, "9400111899223197428497").valid


@pytest.mark.parametrize(
    ("carrier", "number"),
    [
        (Carrier.FEDEX, "1Z999AA10123456784"),  # a UPS number declared as FedEx
        (Carrier.UPS, "9205590164917312751089"),
        (Carrier.DHL, "986578788855"),
        (Carrier.UPS, "2Z5R89390357567127"),
        (Carrier.UPS, "1Z5R8939035756712"),  # one character short
        (Carrier.USPS, "940011120108080548301"),  # 21 digits
        (Carrier.USPS, "R1123456785US"),
        (Carrier.USPS, "RA12345678US"),
        (Carrier.FEDEX, "98657878885"),
        (Carrier.DHL, "331881002"),
        (Carrier.MARKETPLACE, "TBA50288727400"),  # 11 digits
        (Carrier.MARKETPLACE, "TBA50288727400A"),
        (Carrier.MARKETPLACE, "TBB000000000000"),
        (Carrier.MARKETPLACE, "000000000000"),
        (Carrier.UPS, ""),
    ],
)
def test_a_number_outside_the_carriers_formats_is_invalid_and_says_what_was_expected(
    carrier: Carrier, number: str
) -> None:
    result = check_tracking_number(carrier, number)
    assert not result.valid and result.format is None
    assert result.reason is not None and result.reason.startswith(
        f"not a {carrier} tracking number: expected"
    )


@pytest.mark.parametrize("number", ["3318810010", "3318810034", "3318810011", "3318810027"])
def test_a_dhl_number_whose_check_digit_is_not_the_remainder_mod_7_is_invalid(number: str) -> None:
    assert not check_tracking_number(Carrier.DHL, number).valid


def test_spaces_and_lower_case_are_normalised_away() -> None:
    result = check_tracking_number(Carrier.UPS, " 1z 999 aa1 0123 4567 84 ")
    assert result.valid and result.number == "1Z999AA10123456784"


def test_the_check_digit_functions_give_the_published_digits() -> None:
    assert ups_check_digit("999AA1012345678") == 4
    assert gs1_mod10_check_digit("920559016491731275108") == 9
    assert s10_check_digit("12345678") == 5
    assert fedex_express_check_digit("98657878885") == 5
    assert dhl_express_check_digit("331881002") == 5


def test_the_s10_remainders_ten_and_eleven_map_to_zero_and_five() -> None:
    # sum = 8 + 6 + 4 + 2 + 3 + 5 + 9 + 7 = 44 = 4 x 11: 11 - 0 = 11 -> 5.
    assert s10_check_digit("11111111") == 5
    # sum = 6 (the 6-weighted digit) + 6 = 12 -> 11 - 1 = 10 -> 0.
    assert s10_check_digit("02000000") == 0
    assert check_tracking_number(Carrier.USPS, "RR020000000DE").valid


def test_the_marketplace_number_is_derived_from_the_order_id_alone() -> None:
    number = marketplace_tracking_number("o-123")
    assert number == marketplace_tracking_number("o-123")
    assert number != marketplace_tracking_number("o-124")
    assert check_tracking_number(Carrier.MARKETPLACE, number).valid


CONFIRMED = datetime(2025, 3, 3, 12, tzinfo=UTC)
GOOD = check_tracking_number(Carrier.UPS, "1Z999AA10123456784")
BAD = check_tracking_number(Carrier.UPS, "1Z999AA10123456785")


def decide(
    check: TrackingCheck, first_scan: timedelta | None, now: timedelta, policy: TrackingPolicy | None = None
) -> TrackingStatus:
    first_scan_at = CONFIRMED + first_scan if first_scan is not None else None
    return decide_tracking_status(
        check,
        confirmed_at=CONFIRMED,
        first_scan_at=first_scan_at,
        now=CONFIRMED + now,
        policy=policy or TrackingPolicy(),
    ).status


def test_tracking_is_pending_until_the_first_carrier_scan() -> None:
    assert decide(GOOD, None, timedelta(days=4)) is TrackingStatus.PENDING


def test_tracking_is_valid_with_a_scan_within_five_days_of_confirmation() -> None:
    assert decide(GOOD, timedelta(days=1), timedelta(days=1)) is TrackingStatus.VALID


def test_a_scan_exactly_five_days_after_confirmation_still_counts() -> None:
    assert decide(GOOD, timedelta(days=5), timedelta(days=5)) is TrackingStatus.VALID


def test_a_scan_before_the_confirmation_counts() -> None:
    assert decide(GOOD, -timedelta(hours=3), timedelta(0)) is TrackingStatus.VALID


def test_a_first_scan_five_days_late_makes_tracking_invalid() -> None:
    assert decide(GOOD, timedelta(days=10), timedelta(days=10)) is TrackingStatus.INVALID
    assert decide(GOOD, timedelta(days=5, seconds=1), timedelta(days=6)) is TrackingStatus.INVALID


def test_no_scan_once_the_window_has_closed_makes_tracking_invalid() -> None:
    assert decide(GOOD, None, timedelta(days=5, seconds=-1)) is TrackingStatus.PENDING
    assert decide(GOOD, None, timedelta(days=5)) is TrackingStatus.INVALID  # a tick at or after the deadline


def test_between_ticks_a_late_first_scan_leaves_tracking_pending() -> None:
    late = decide_tracking_status(GOOD, confirmed_at=CONFIRMED, first_scan_at=CONFIRMED + timedelta(days=6),
                                  now=CONFIRMED + timedelta(days=6), at_tick=False)
    assert late.status is TrackingStatus.PENDING


def test_a_bad_number_is_invalid_at_once_scan_or_not() -> None:
    result = decide_tracking_status(BAD, confirmed_at=CONFIRMED, first_scan_at=CONFIRMED, now=CONFIRMED)
    assert result.status is TrackingStatus.INVALID and result.reason == BAD.reason


def test_the_scan_window_is_a_setting() -> None:
    two_days = TrackingPolicy(scan_window=timedelta(days=2))
    assert decide(GOOD, timedelta(days=3), timedelta(days=3), two_days) is TrackingStatus.INVALID


@pytest.mark.parametrize(
    ("check", "first_scan", "now", "verdict"),
    [
        (GOOD, None, timedelta(days=1), None),
        (GOOD, timedelta(days=1), timedelta(days=1), TrackingVerdict.FIRST_SCAN),
        (GOOD, timedelta(days=6), timedelta(days=6), TrackingVerdict.NO_SCAN),
        (GOOD, None, timedelta(days=6), TrackingVerdict.NO_SCAN),
        (BAD, timedelta(days=1), timedelta(days=1), TrackingVerdict.BAD_FORMAT),
    ],
)
def test_every_decision_names_its_verdict_and_carries_the_first_scan(
    check: TrackingCheck, first_scan: timedelta | None, now: timedelta, verdict: TrackingVerdict | None
) -> None:
    first_scan_at = CONFIRMED + first_scan if first_scan is not None else None
    decision = decide_tracking_status(
        check, confirmed_at=CONFIRMED, first_scan_at=first_scan_at, now=CONFIRMED + now
    )
    assert decision.verdict is verdict
    assert decision.first_scan_at == first_scan_at
