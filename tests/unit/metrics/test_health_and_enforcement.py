"""The account health rating, its ledger and the enforcement decisions (domain.md section 7), by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.metrics import policy as keys
from services.metrics.domain.enforcement import Level, SellerStanding, after, decide
from services.metrics.domain.health import Episode, Health, Violation, episodes, health
from services.metrics.domain.scorecard import Scorecard, scorecard
from services.metrics.policy import DEFAULT_POLICY
from shared.events.common import EnforcementAction, HealthBand, Severity
from tests.unit.metrics.builders import DAY, NOW

TODAY = NOW.date()


def quiet_card(**sums: tuple[int, int]) -> Scorecard:
    """A scorecard from window sums given as key__days=(numerator, denominator)."""
    parsed = {(k.rsplit("__", 1)[0].replace("_dot_", "."), int(k.rsplit("__", 1)[1])): v for k, v in sums.items()}
    return scorecard(TODAY, parsed, DEFAULT_POLICY)


def violation(vid: str, days_ago: int, severity: Severity = Severity.MEDIUM, category: str = "listing",
              resolved_days_ago: int | None = None) -> Violation:
    resolved = None if resolved_days_ago is None else NOW - resolved_days_ago * DAY
    return Violation(vid, category, severity, NOW - days_ago * DAY, "something broke a rule", ("L3",), resolved)


def rate_health(card: Scorecard | None = None, violations: list[Violation] | None = None,
                history: dict[str, list[Episode]] | None = None, resolved: dict[str, datetime] | None = None) -> Health:
    found = violations or []
    resolutions = dict(resolved or {})
    resolutions |= {v.violation_id: v.resolved_at for v in found if v.resolved_at is not None}
    result = health(card or quiet_card(), found, history or {}, resolutions, NOW, DEFAULT_POLICY)
    assert sum(line.points for line in result.ledger) == result.rating  # every point has a line
    return result


def test_a_new_seller_starts_at_200_and_is_healthy() -> None:
    result = rate_health()
    assert (result.rating, result.band) == (200, HealthBand.HEALTHY)
    assert [line.kind for line in result.ledger] == ["base"]


def test_four_points_for_every_200_orders_fulfilled_in_180_days() -> None:
    assert rate_health(quiet_card(fulfilled__180=(399, 399))).rating == 204
    assert rate_health(quiet_card(fulfilled__180=(400, 400))).rating == 208


def test_an_open_violation_subtracts_its_points_by_severity() -> None:
    assert rate_health(violations=[violation("V-low", 10, Severity.LOW)]).rating == 198
    assert rate_health(violations=[violation("V-med", 10, Severity.MEDIUM)]).rating == 196
    high = rate_health(violations=[violation("V-high", 10, Severity.HIGH)])
    assert (high.rating, high.band) == (192, HealthBand.AT_RISK)
    line = high.ledger[-1]
    assert (line.violation_id, line.points, line.opened_on, line.closes_on) == (
        "V-high", -8, (NOW - 10 * DAY).date(), (NOW + 170 * DAY).date())


def test_a_repeat_of_the_same_category_within_180_days_doubles() -> None:
    result = rate_health(violations=[violation("V-1", 100), violation("V-2", 10)])
    assert result.rating == 200 - 4 - 8
    assert result.ledger[-1].repeat_of == "V-1" and "doubled" in result.ledger[-1].reason


def test_another_category_or_an_earlier_one_outside_180_days_is_no_repeat() -> None:
    other = rate_health(violations=[violation("V-1", 100), violation("V-2", 10, category="messaging")])
    assert other.rating == 200 - 4 - 4
    far = rate_health(violations=[violation("V-1", 200), violation("V-2", 10)])
    assert far.rating == 200 - 4  # V-1 closed, and 190 days before V-2
    assert [line.violation_id for line in far.history] == ["V-1"]


def test_a_violation_closes_180_days_after_it_was_detected() -> None:
    assert rate_health(violations=[violation("V-1", 179)]).rating == 196
    assert rate_health(violations=[violation("V-1", 180)]).rating == 200


def test_a_critical_violation_sets_the_rating_to_0() -> None:
    result = rate_health(quiet_card(fulfilled__180=(4000, 4000)),
                         violations=[violation("V-c", 3, Severity.CRITICAL), violation("V-1", 5)])
    assert (result.rating, result.band, result.critical_ids) == (0, HealthBand.CRITICAL, ("V-c",))
    assert result.ledger[-1].kind == "critical"


def test_the_rating_never_goes_below_0() -> None:
    many = [violation(f"V-{i}", 1 + i, Severity.HIGH, category=("listing", "review", "messaging")[i % 3])
            for i in range(20)]
    result = rate_health(violations=many)
    assert result.rating == 0 and result.ledger[-1].kind == "floor"


def test_a_breached_rate_is_an_open_performance_violation_and_a_repeat_doubles_it() -> None:
    breach = quiet_card(odr_dot_merchant__60=(2, 100))
    history = {"order_defect_rate_merchant": [Episode("order_defect_rate_merchant", TODAY - timedelta(days=5), None)]}
    first = rate_health(breach, history=history)
    assert first.rating == 192
    line = first.ledger[-1]
    assert (line.violation_id, line.opened_on, line.closes_on) == (
        f"order_defect_rate_merchant:{TODAY - timedelta(days=5)}", TODAY - timedelta(days=5), None)
    again = {"order_defect_rate_merchant": [Episode("order_defect_rate_merchant", TODAY - timedelta(days=100),
                                           TODAY - timedelta(days=80)), *history["order_defect_rate_merchant"]]}
    assert rate_health(breach, history=again).rating == 184


def test_both_order_defect_rate_channels_in_breach_are_two_violations() -> None:
    both = quiet_card(odr_dot_merchant__60=(2, 100), odr_dot_marketplace__60=(2, 100))
    history = {f"order_defect_rate_{channel}": [Episode(f"order_defect_rate_{channel}", TODAY - timedelta(days=5),
                                                        None)] for channel in ("merchant", "marketplace")}
    result = rate_health(both, history=history)
    assert result.rating == 200 - 8 - 8  # one high violation per channel, as two metrics would cost
    assert sorted(line.category for line in result.ledger if line.kind == "violation") == [
        "order_defect_rate_marketplace", "order_defect_rate_merchant"]


def test_a_repeat_doubles_once_and_a_third_violation_of_the_category_is_doubled_not_quadrupled() -> None:
    first, second, third = (violation(f"V-{i}", days, Severity.MEDIUM) for i, days in ((1, 150), (2, 90), (3, 10)))
    result = rate_health(violations=[first, second, third])
    points = sorted(line.points for line in result.ledger if line.kind == "violation")
    assert points == [-8, -8, -4]  # the first 4; the second repeats it (8); the third repeats the second (8)
    assert result.rating == 200 - 20


def test_a_violation_more_than_180_days_after_the_last_one_of_its_category_is_no_repeat() -> None:
    result = rate_health(violations=[violation("V-1", 185, Severity.MEDIUM), violation("V-2", 2, Severity.MEDIUM)])
    assert [line.points for line in result.ledger if line.kind == "violation"] == [-4]  # V-1 closed, V-2 alone


def test_a_low_volume_rate_over_its_target_opens_no_violation() -> None:
    result = rate_health(quiet_card(odr_dot_merchant__60=(2, 24)))
    assert result.rating == 200 and not result.breached


def test_an_accepted_appeal_resolves_the_violations_it_names() -> None:
    result = rate_health(violations=[violation("V-1", 30, Severity.HIGH, resolved_days_ago=2),
                                     violation("V-2", 10, category="messaging")])
    assert result.rating == 196  # V-1 gone: only V-2's 4 points
    assert [line.kind for line in result.history] == ["resolved"]


def test_a_violation_after_a_resolved_one_of_its_category_is_a_repeat() -> None:
    # domain.md section 7: a repeat is a new violation opened within 180 days after an earlier one of its
    # category opened; an appeal that resolved the earlier one took its points, not the fact that it opened.
    result = rate_health(violations=[violation("V-1", 30, Severity.HIGH, resolved_days_ago=2), violation("V-2", 10)])
    assert [(line.violation_id, line.points, line.repeat_of) for line in result.ledger if line.kind == "violation"] \
        == [("V-2", -8, "V-1")]
    assert result.rating == 192


def test_breach_days_become_episodes() -> None:
    d = date(2026, 1, 1)
    days = [(d + timedelta(days=i), flag) for i, flag in enumerate([False, True, True, False, True])]
    assert episodes("late_shipment_rate", days) == [
        Episode("late_shipment_rate", d + timedelta(days=1), d + timedelta(days=3)),
        Episode("late_shipment_rate", d + timedelta(days=4), None),
    ]


# --- enforcement ---------------------------------------------------------------------------------------


def test_entering_at_risk_warns_once() -> None:
    at_risk = rate_health(violations=[violation("V-1", 3, Severity.HIGH)])
    standing = SellerStanding()
    decision = decide(standing, at_risk, NOW, DEFAULT_POLICY)
    assert decision is not None and decision.action is EnforcementAction.WARN
    assert decide(after(standing, at_risk, decision, NOW), at_risk, NOW, DEFAULT_POLICY) is None


def test_a_seller_who_enters_at_risk_between_two_ticks_is_warned_at_the_second() -> None:
    at_risk = rate_health(violations=[violation("V-1", 3, Severity.HIGH)])
    healthy = rate_health()
    at_first_tick = after(SellerStanding(), healthy, None, NOW - DAY)
    # Events between the ticks refresh the scorecard (no decision there): the band follows them at once.
    between = after(at_first_tick, at_risk, None, NOW - DAY / 2, at_tick=False)
    assert between.band is HealthBand.AT_RISK
    decision = decide(between, at_risk, NOW, DEFAULT_POLICY)
    assert decision is not None and decision.action is EnforcementAction.WARN
    # Back to healthy and at risk again between ticks, once warned: no second warning.
    warned = after(between, at_risk, decision, NOW)
    assert decide(after(warned, at_risk, None, NOW + DAY / 2, at_tick=False), at_risk, NOW + DAY,
                  DEFAULT_POLICY) is None


def test_an_order_defect_rate_breach_restricts() -> None:
    breach = rate_health(quiet_card(odr_dot_merchant__60=(3, 100)),
                         history={"order_defect_rate_merchant": [Episode("order_defect_rate_merchant", TODAY, None)]})
    decision = decide(SellerStanding(level=Level.WARNED), breach, NOW, DEFAULT_POLICY)
    assert decision is not None and decision.action is EnforcementAction.RESTRICT
    assert "order_defect_rate in breach" in decision.reasons


def test_a_breach_episode_an_accepted_appeal_resolved_restricts_no_more_but_a_new_episode_does() -> None:
    card = quiet_card(odr_dot_merchant__60=(3, 100))
    episode = Episode("order_defect_rate_merchant", TODAY - timedelta(days=5), None)
    resolved = rate_health(card, history={"order_defect_rate_merchant": [episode]},
                           resolved={episode.violation_id: NOW - DAY})
    reinstated = SellerStanding(level=Level.NONE, decided_at=NOW - 2 * DAY, appeal_accepted_at=NOW - DAY)
    assert decide(reinstated, resolved, NOW, DEFAULT_POLICY) is None  # the old defects are still in the window
    again = Episode("order_defect_rate_merchant", TODAY, None)
    closed = Episode("order_defect_rate_merchant", episode.opened_on, TODAY - timedelta(days=2))
    new = rate_health(card, history={"order_defect_rate_merchant": [closed, again]},
                      resolved={episode.violation_id: NOW - 3 * DAY})
    decision = decide(reinstated, new, NOW, DEFAULT_POLICY)
    assert decision is not None and decision.action is EnforcementAction.RESTRICT


def test_a_breach_of_another_metric_does_not_restrict() -> None:
    late = rate_health(quiet_card(response__30=(50, 100), fulfilled__180=(400, 400)),
                       history={"response_within_24h": [Episode("response_within_24h", TODAY, None)]})
    assert (late.rating, late.band) == (206, HealthBand.HEALTHY)  # 200 + 8 - 2 (low)
    assert decide(SellerStanding(), late, NOW, DEFAULT_POLICY) is None


def test_a_critical_violation_suspends() -> None:
    critical = rate_health(violations=[violation("V-c", 1, Severity.CRITICAL)])
    decision = decide(SellerStanding(level=Level.RESTRICTED), critical, NOW, DEFAULT_POLICY)
    assert decision is not None and decision.action is EnforcementAction.SUSPEND


def test_back_to_healthy_after_an_accepted_appeal_reinstates_and_not_before() -> None:
    healthy = rate_health()
    suspended = SellerStanding(band=HealthBand.CRITICAL, rating=0, level=Level.SUSPENDED, decided_at=NOW - 5 * DAY)
    assert decide(suspended, healthy, NOW, DEFAULT_POLICY) is None
    appealed = SellerStanding(band=HealthBand.CRITICAL, rating=0, level=Level.SUSPENDED, decided_at=NOW - 5 * DAY,
                              appeal_accepted_at=NOW - DAY)
    decision = decide(appealed, healthy, NOW, DEFAULT_POLICY)
    assert decision is not None and decision.action is EnforcementAction.REINSTATE
    assert after(appealed, healthy, decision, NOW).level is Level.NONE


def test_keys_are_stable() -> None:
    assert keys.sales_key("EUR") == "sales:EUR" and keys.family("sales:EUR") == "sales"
