"""The platform for a simulation: the configured (or embedded) infrastructure and the five services."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sellerflow.platform import infrastructure
from sellerflow.simulate.runner import clients, print_outcome, run_simulation
from sellerflow.supervisor import start_services, wait_forever
from shared.settings import get_settings


def simulate_command(*, sellers: int, days: int, seed: int, appeals: int, stay: bool, report: Path | None = None
                     ) -> int:
    settings = get_settings()
    with infrastructure(settings) as infra:
        log_path = Path(infra.data_dir) / "services.log"
        print(f"starting the five services (logs: {log_path}) ...")
        with log_path.open("a") as log:
            platform = start_services(infra.env(), log=log)
            try:
                platform.wait_ready()
                urls = {name: platform.url(name) for name in platform.processes}

                async def main() -> None:
                    http = clients(urls)
                    try:
                        outcome = await run_simulation(settings, infra.bootstrap_servers, http, sellers=sellers,
                                                       days=days, seed=seed, appeals=appeals)
                    finally:
                        for client in http.values():
                            await client.aclose()
                    print_outcome(outcome)
                    if report is not None:
                        text = json.dumps(outcome.report(), indent=1, sort_keys=True, default=str)
                        await asyncio.to_thread(report.write_text, text)
                        print(f"report: {report}")
                    first = outcome.sellers[0].seller_id
                    print(f"\ndashboard: {urls['metrics']}/dashboard/{first} (sign in with the seller's token:"
                          f" `sellerflow token seller {first}`)")

                asyncio.run(main())
                if stay:
                    print("the platform keeps running; Ctrl-C stops it")
                    wait_forever(platform)
                return 0
            finally:
                platform.stop()
