"""Enforcement decisions (domain.md section 7): the metrics service decides, the listing service applies.

- entering at risk -> warn;
- an order defect rate, cancel rate or late shipment breach -> restrict, while its performance
  violation is open: once an accepted appeal resolves a breach episode, the rest of that episode
  (the days its window still holds the old defects) restricts no more; a new episode, after the
  metric came back within target, does;
- critical band, or an open critical violation -> suspend;
- after an accepted appeal, a seller back to healthy with nothing that would restrict it again -> reinstate.

A decision only ever escalates (warn < restrict < suspend) until a reinstatement; the state also
follows the account status an operator sets directly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum

from services.metrics.domain.health import Health
from services.metrics.policy import Policy
from shared.events.common import AccountStatus, EnforcementAction, HealthBand


class Level(IntEnum):
    NONE = 0
    WARNED = 1
    RESTRICTED = 2
    SUSPENDED = 3


LEVEL_OF_ACTION = {
    EnforcementAction.WARN: Level.WARNED,
    EnforcementAction.RESTRICT: Level.RESTRICTED,
    EnforcementAction.SUSPEND: Level.SUSPENDED,
    EnforcementAction.REINSTATE: Level.NONE,
}
LEVEL_OF_STATUS = {
    AccountStatus.ACTIVE: Level.NONE,
    AccountStatus.REINSTATED: Level.NONE,
    AccountStatus.WARNED: Level.WARNED,
    AccountStatus.RESTRICTED: Level.RESTRICTED,
    AccountStatus.SUSPENDED: Level.SUSPENDED,
}


@dataclass(frozen=True)
class SellerStanding:
    """What the decision needs to remember between scorecards."""

    band: HealthBand = HealthBand.HEALTHY
    rating: int = 200
    level: Level = Level.NONE
    decided_at: datetime | None = None  # the last enforcement decision
    appeal_accepted_at: datetime | None = None
    #: The band at the last tick: decisions compare with it, not with `band`, which follows every event
    #: between ticks (a seller who enters at risk between two ticks is warned at the second).
    judged_band: HealthBand = HealthBand.HEALTHY


@dataclass(frozen=True)
class Decision:
    action: EnforcementAction
    reasons: tuple[str, ...]


def decide(standing: SellerStanding, health: Health, now: datetime, policy: Policy) -> Decision | None:
    unresolved = health.open_metrics()
    restricting = sorted({r.name.value for r in health.breached
                          if r.name in policy.restricting and r.name in unresolved})
    if health.critical_ids or health.band is HealthBand.CRITICAL:
        if standing.level < Level.SUSPENDED:
            reasons = [f"critical violation {v}" for v in health.critical_ids]
            if health.band is HealthBand.CRITICAL:
                reasons.append(f"account health rating {health.rating} is critical (under {policy.at_risk_from})")
            return Decision(EnforcementAction.SUSPEND, tuple(reasons))
        return None
    if restricting:
        if standing.level < Level.RESTRICTED:
            return Decision(EnforcementAction.RESTRICT, tuple(f"{name} in breach" for name in restricting))
        return None
    if health.band is HealthBand.AT_RISK:
        if standing.judged_band is HealthBand.HEALTHY and standing.level < Level.WARNED:
            return Decision(EnforcementAction.WARN, (
                f"account health rating {health.rating} is at risk ({policy.at_risk_from}-{policy.healthy_from - 1})",
            ))
        return None
    appealed = standing.appeal_accepted_at is not None and (
        standing.decided_at is None or standing.appeal_accepted_at >= standing.decided_at)
    if standing.level > Level.NONE and appealed:
        return Decision(EnforcementAction.REINSTATE, (
            "an appeal was accepted", f"account health rating {health.rating} is healthy again",
        ))
    return None


def after(standing: SellerStanding, health: Health, decision: Decision | None, now: datetime, *,
          at_tick: bool = True) -> SellerStanding:
    """The standing once a scorecard (and its decision, if any) is taken; `at_tick`: on a clock tick, where
    decisions are taken (the band they compare with moves only then)."""
    standing = replace(standing, band=health.band, rating=health.rating)
    if at_tick:
        standing = replace(standing, judged_band=health.band)
    if decision is None:
        return standing
    return replace(standing, level=LEVEL_OF_ACTION[decision.action], decided_at=now)


def status_changed(standing: SellerStanding, status: AccountStatus, by_operator: bool) -> SellerStanding:
    """An operator's own decision (or an appeal's) moves the level; applying ours changes nothing."""
    level = LEVEL_OF_STATUS.get(status)
    if not by_operator or level is None:
        return standing
    return replace(standing, level=level)
