"""What checking values at the doors costs (CPU only, no broker): `parse_event` on one message of an
ingress type (every time, amount and text checked), an internal type and a clock tick, timed in turn
in every round; prints JSON: median microseconds per message (CPU time of this process).

Run it in this tree and in a tree without the checks (e.g. `git archive <commit> shared tests | tar -x`)
to compare:

    .venv/bin/python bench/values.py --messages 10000 --rounds 7
    PYTHONPATH=/tmp/before .venv/bin/python bench/values.py --messages 10000 --rounds 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if "PYTHONPATH" not in os.environ:  # else: the tree PYTHONPATH names, to compare
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.events import new_event, parse_event, topics
from tests.unit.event_samples import SAMPLES

CASES = {
    "ingress: checkout.order_placed": ("sellerflow.checkout.order_placed.v1", topics.INGRESS_ORDERS),
    "internal: order.confirmed": ("sellerflow.order.confirmed.v1", topics.ORDER_EVENTS),
    "clock.ticked": ("sellerflow.clock.ticked.v1", topics.CLOCK_EVENTS),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    values = {}
    for name, (event_type, topic) in CASES.items():
        event = new_event(SAMPLES[event_type], seller_id="S-1", subject="ord-1",
                          time=datetime(2025, 3, 3, 9, 30, tzinfo=UTC), source="/bench")
        values[name] = (event.to_bytes(), topic)
    timings: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, (raw, topic) in values.items():
            started = time.process_time()
            for _ in range(args.messages):
                parse_event(raw, topic=topic)
            timings[name].append((time.process_time() - started) / args.messages * 1e6)
    print(json.dumps({name: round(statistics.median(found), 2) for name, found in timings.items()}, indent=2))


if __name__ == "__main__":
    main()
