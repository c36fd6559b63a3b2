"""`sellerflow simulate`: run the simulation against a platform and report every seller's outcome."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from sellerflow.simulate.doors import Doors
from sellerflow.simulate.engine import Simulation, gather_bounded
from shared.auth import operator_token
from shared.settings import SERVICE_NAMES, Settings


@dataclass(frozen=True)
class SellerOutcome:
    seller_id: str
    profile: str
    fraudulent: bool
    status: str
    rating: int | None
    band: str | None
    breaches: tuple[str, ...]  # in breach at the end
    scorecard: Mapping[str, Any]
    health: Mapping[str, Any]  # the rating's ledger, with every closed and resolved violation of the run

    @property
    def breached(self) -> tuple[str, ...]:
        """Every rate metric the seller was in breach of at some time: open, closed or resolved violations."""
        lines = [*self.health.get("ledger", []), *self.health.get("history", [])]
        return tuple(sorted({line["metric"] for line in lines if line.get("metric")}))


@dataclass(frozen=True)
class Outcome:
    sellers: tuple[SellerOutcome, ...]
    stats: Mapping[str, int]
    seconds: float
    events: int
    phases: Mapping[str, float]

    def by_id(self) -> dict[str, SellerOutcome]:
        return {s.seller_id: s for s in self.sellers}

    def report(self) -> dict[str, Any]:
        """What the run decided, without the wall-clock figures: equal for two runs of one seed."""
        return {"stats": dict(self.stats), "sellers": {
            s.seller_id: {"profile": s.profile, "fraudulent": s.fraudulent, "status": s.status, "rating": s.rating,
                          "band": s.band, "breaches": list(s.breaches), "scorecard": s.scorecard, "health": s.health}
            for s in self.sellers}}


async def run_simulation(settings: Settings, bootstrap: str, http: Mapping[str, httpx.AsyncClient], *,
                         sellers: int, days: int, seed: int, appeals: int = -1, show_progress: bool = True
                         ) -> Outcome:
    token = operator_token(settings.auth_secret.get_secret_value())
    started = time.monotonic()
    async with Doors(settings, bootstrap, http, token, seed=seed) as doors:
        simulation = Simulation(doors, sellers=sellers, days=days, seed=seed, appeals=appeals)
        baseline = await consumed(doors)
        progress = Progress(days, started, baseline) if show_progress else None
        await simulation.run(on_day=progress.report if progress else None)
        outcome = await collect(doors, simulation)
        events = await consumed(doors) - baseline
    if progress:
        progress.done()
    return Outcome(outcome, {k: v for k, v in vars(simulation.stats).items() if isinstance(v, int)},
                   time.monotonic() - started, events, dict(simulation.stats.seconds))


async def consumed(doors: Doors) -> int:
    return sum([(await doors.get(name, "/ops/progress"))["records_consumed"] for name in SERVICE_NAMES])


async def collect(doors: Doors, simulation: Simulation) -> tuple[SellerOutcome, ...]:
    async def one(seller: Any) -> SellerOutcome:
        account = await doors.call("listing", "GET", f"/v1/sellers/{seller.seller_id}", ok=(200, 404))
        status = account.json()["status"] if account.status_code == 200 else "unregistered"
        card = await doors.get("metrics", f"/v1/sellers/{seller.seller_id}/scorecard")
        health = await doors.get("metrics", f"/v1/sellers/{seller.seller_id}/health")
        breaches = tuple(sorted({m["name"] for m in card.get("metrics", []) if m.get("breach")}))
        return SellerOutcome(seller.seller_id, seller.profile.name, seller.fraudulent, status,
                             health.get("rating"), health.get("band"), breaches, card, health)

    return tuple(await gather_bounded([one(s) for s in simulation.sellers]))


class Progress:
    """One line per business day: a bar, the day, events/s, sellers per health band."""

    def __init__(self, days: int, started: float, baseline: int) -> None:
        self.days, self.started, self.baseline = days, started, baseline

    async def report(self, day: int, simulation: Simulation) -> None:
        events = await consumed(simulation.doors) - self.baseline
        elapsed = time.monotonic() - self.started
        sellers = [s.seller_id for s in simulation.sellers if not s.fraudulent]
        unhealthy = await simulation.doors.get("metrics", "/v1/sellers/at-risk", params={"limit": 1000})
        bands = Counter(row["band"] for row in unhealthy if row["seller_id"] in sellers)
        bands["healthy"] = len(sellers) - sum(bands.values())
        width = 30
        filled = width * day // self.days
        bar = "#" * filled + "." * (width - filled)
        counts = "  ".join(f"{band} {bands.get(band, 0)}" for band in ("healthy", "at_risk", "critical"))
        print(f"\r[{bar}] day {day:>3}/{self.days}  {events / max(elapsed, 1e-9):>6.0f} events/s  {counts}   ",
              end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        print(file=sys.stderr)


#: Short names of the rate metrics, for the table.
SHORT = {"order_defect_rate": "ODR", "pre_fulfillment_cancel_rate": "cancel", "late_shipment_rate": "late",
         "valid_tracking_rate": "tracking", "on_time_delivery_rate": "on-time", "response_within_24h": "reply",
         "return_dissatisfaction_rate": "returns"}


def print_outcome(outcome: Outcome) -> None:
    def names(metrics: Iterable[str]) -> str:
        return ", ".join(SHORT.get(m, m) for m in metrics) or "-"

    header = f"{'seller':<7}{'profile':<18}{'status':<12}{'rating':>6}  {'band':<9}{'in breach now':<22}earlier"
    print(header)
    print("-" * (len(header) + 20))
    for s in outcome.sellers:
        profile = "fraudulent" if s.fraudulent else s.profile
        rating = "-" if s.rating is None else str(s.rating)
        earlier = [m for m in s.breached if m not in s.breaches]
        print(f"{s.seller_id:<7}{profile:<18}{s.status:<12}{rating:>6}  {s.band or '-':<9}{names(s.breaches):<22}"
              f"{names(earlier)}")
    print("metrics: " + ", ".join(f"{short} = {name}" for name, short in SHORT.items()))
    st = outcome.stats
    print(f"\n{st['orders']} orders, {st['shipped']} shipped by sellers, {st['cancelled']} cancelled by sellers, "
          f"{st['blocked_messages']} messages blocked, {st['appeals']} appeals; {outcome.events} events applied "
          f"in {outcome.seconds:.0f} s ({outcome.events / max(outcome.seconds, 1e-9):.0f} events/s)")
    print("time spent: " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in outcome.phases.items()))


def clients(urls: Mapping[str, str]) -> dict[str, httpx.AsyncClient]:
    # Let idle connections go before any server would close them (uvicorn: 75 s here, 5 s by default).
    limits = httpx.Limits(max_connections=32, keepalive_expiry=4.0)
    return {name: httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) for name, url in urls.items()}
