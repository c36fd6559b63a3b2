"""A short simulation through all five services: the outcomes make sense, and a seed replays exactly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sellerflow.simulate.runner import Outcome, run_simulation
from shared.settings import SERVICE_NAMES, Settings
from tests.conftest import isolated_settings
from tests.support.platform import asgi_clients, running

pytestmark = pytest.mark.e2e

SELLERS, DAYS, SEED = 7, 30, 11


async def simulate(settings: Settings) -> tuple[Outcome, dict[str, list[dict[str, Any]]]]:
    assert settings.kafka_bootstrap_servers
    async with running(settings, SERVICE_NAMES) as runtimes:
        http = asgi_clients(runtimes)
        try:
            outcome = await run_simulation(settings, settings.kafka_bootstrap_servers, http, sellers=SELLERS,
                                           days=DAYS, seed=SEED, show_progress=False)
            enforcements = {
                s.seller_id: (await http["listing"].get(
                    f"/v1/sellers/{s.seller_id}/enforcements", headers=_operator(settings))).json()
                for s in outcome.sellers if not s.fraudulent
            }
            for s in outcome.sellers:
                if not s.fraudulent:
                    appeals = (await http["listing"].get(f"/v1/sellers/{s.seller_id}/appeals",
                                                         headers=_operator(settings))).json()
                    enforcements[s.seller_id] += [{"action": "appeal", "outcome": "accepted" if a["accepted"]
                                                   else "pending"} for a in appeals]
        finally:
            for client in http.values():
                await client.aclose()
    return outcome, enforcements


def _operator(settings: Settings) -> dict[str, str]:
    from shared.auth import operator_token

    return {"Authorization": f"Bearer {operator_token(settings.auth_secret.get_secret_value())}"}


def _applied(enforcements: list[dict[str, Any]], action: str) -> bool:
    return any(e["action"] == action and e["outcome"] == "applied" for e in enforcements)


def _scores(outcome: Outcome) -> dict[str, Any]:
    """Everything a seller's scorecard says, without what depends on the wall clock."""
    return {
        s.seller_id: (s.status, s.rating, s.band, s.breaches,
                      [(m["name"], m["channel"], m["window_days"], m["numerator"], m["denominator"])
                       for m in s.scorecard.get("metrics", [])])
        for s in outcome.sellers
    }


async def test_thirty_days_of_a_small_marketplace_end_as_its_sellers_deserve_and_replay_exactly(
    infra: Any,
) -> None:
    # Two runs of the same seed on their own topics and schemas, side by side (their waits overlap).
    (outcome, enforcements), (again, _) = await asyncio.gather(simulate(isolated_settings(infra)),
                                                               simulate(isolated_settings(infra)))
    sellers = outcome.by_id()
    by_profile: dict[str, list[str]] = {}
    for s in outcome.sellers:
        by_profile.setdefault("fraudulent" if s.fraudulent else s.profile, []).append(s.seller_id)

    for seller_id in by_profile["fraudulent"]:
        assert sellers[seller_id].status == "rejected"
    for seller_id in by_profile["excellent"]:
        assert sellers[seller_id].band == "healthy", sellers[seller_id]
        assert sellers[seller_id].status == "active"
        assert not sellers[seller_id].breached  # not even for a day
        assert not enforcements[seller_id]  # never warned, restricted or suspended
    for seller_id in by_profile["slow shipper"]:
        assert "late_shipment_rate" in sellers[seller_id].breached, f"{seller_id} never breached late shipment"
        assert _applied(enforcements[seller_id], "restrict"), f"{seller_id} was never restricted"
    for seller_id in by_profile["canceller"]:
        assert "pre_fulfillment_cancel_rate" in sellers[seller_id].breached, f"{seller_id} never breached cancels"
    for seller_id in by_profile["spammer"]:
        health = sellers[seller_id].health
        assert any(line["category"] in ("messaging", "review") for line in health["ledger"] + health["history"]), \
            "spam raised no violation"
    assert outcome.stats["blocked_messages"] > 0
    # Every restricted seller appealed with a plan of action and the operator accepted it, which
    # reinstated the account; a seller that then behaves is not restricted again for the defects its
    # windows still hold (the appeal resolved that breach episode).
    restricted = [sid for sid, e in enforcements.items() if _applied(e, "restrict")]
    assert 2 <= outcome.stats["appeals"] <= len(restricted)  # one restricted on the last day has not yet
    accepted = [sid for sid in restricted if any(e == {"action": "appeal", "outcome": "accepted"}
                                                  for e in enforcements[sid])]
    assert len(accepted) == outcome.stats["appeals"]
    for seller_id in accepted:
        assert sellers[seller_id].status in ("reinstated", "active"), (seller_id, enforcements[seller_id])

    # The replay: the same seed gives the very same scorecards, every figure of every seller.
    first, second = _scores(outcome), _scores(again)
    differing = sorted(seller for seller in first if first[seller] != second.get(seller))
    assert not differing, {seller: (first[seller], second.get(seller)) for seller in differing}
