"""`sellerflow simulate`: run the simulation against a platform and report every seller's outcome."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping
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
    breaches: tuple[str, ...]
    scorecard: Mapping[str, Any]


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
                          "band": s.band, "breaches": list(s.breaches), "scorecard": s.scorecard}
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
        health = card.get("health") or {}
        breaches = tuple(sorted({m["name"] for m in card.get("metrics", []) if m.get("breach")}))
        return SellerOutcome(seller.seller_id, seller.profile.name, seller.fraudulent, status,
                             health.get("rating"), health.get("band"), breaches, card)

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


def print_outcome(outcome: Outcome) -> None:
    header = f"{'seller':<7}{'profile':<18}{'status':<13}{'rating':>7}  {'band':<9}metrics in breach"
    print(header)
    print("-" * (len(header) + 30))
    for s in outcome.sellers:
        profile = "fraudulent" if s.fraudulent else s.profile
        rating = "-" if s.rating is None else str(s.rating)
        breaches = ", ".join(s.breaches) or "-"
        print(f"{s.seller_id:<7}{profile:<18}{s.status:<13}{rating:>7}  {s.band or '-':<9}{breaches}")
    st = outcome.stats
    print(f"\n{st['orders']} orders, {st['shipped']} shipped by sellers, {st['cancelled']} cancelled by sellers, "
          f"{st['blocked_messages']} messages blocked, {st['appeals']} appeals; {outcome.events} events applied "
          f"in {outcome.seconds:.0f} s ({outcome.events / max(outcome.seconds, 1e-9):.0f} events/s)")
    print("time spent: " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in outcome.phases.items()))


def clients(urls: Mapping[str, str]) -> dict[str, httpx.AsyncClient]:
    # Let idle connections go before any server would close them (uvicorn: 75 s here, 5 s by default).
    limits = httpx.Limits(max_connections=32, keepalive_expiry=4.0)
    return {name: httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) for name, url in urls.items()}
