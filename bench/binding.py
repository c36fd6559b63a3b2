"""What reading a record costs at the doors (CPU only, no broker): the same orders as the SDK makes them
in structured and in binary mode through `parse_record`, next to `parse_event` alone on the structured
values (the path internal topics take, and every ingress record took before the binding). The three are
timed in turn in every round; prints JSON: median microseconds per record (CPU time of this process)
and the ratios.

    .venv/bin/python bench/binding.py --records 2000 --rounds 15
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.events import new_event, parse_event, topics
from shared.events.binding import parse_record
from tests.support.ce_sdk import binary, headers_of, key_of, structured
from tests.support.factories import checkout_order
from tests.unit.event_samples import SAMPLES


def timed(parse: Callable[[], object], records: int) -> float:
    started = time.process_time()
    parse()
    return (time.process_time() - started) / records * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    orders = [checkout_order(f"S-{i % 50}") for i in range(args.records)]
    modes = {"structured": [structured(order) for order in orders], "binary": [binary(order) for order in orders]}
    ingress = topics.INGRESS_ORDERS

    def event_only() -> None:
        for message in modes["structured"]:
            parse_event(message.value, topic=ingress)

    def through_binding(mode: str) -> Callable[[], None]:
        messages = [(m.value, key_of(m), headers_of(m)) for m in modes[mode]]

        def run() -> None:
            for value, key, headers in messages:
                parse_record(value, topic=ingress, key=key, headers=headers)

        return run

    confirmed = [new_event(SAMPLES["sellerflow.order.confirmed.v1"], seller_id=order.sellerid, subject=order.subject,
                           time=order.time, source="/sellerflow/order").to_bytes() for order in orders]

    def internal(parse: Callable[..., object]) -> Callable[[], None]:
        def run() -> None:
            for value in confirmed:
                parse(value, topic=topics.ORDER_EVENTS, key=None, headers=())

        return run

    runs = {"ingress: parse_event": event_only, "ingress: structured": through_binding("structured"),
            "ingress: binary": through_binding("binary"),
            "internal: parse_event": internal(lambda value, topic, **_: parse_event(value, topic=topic)),
            "internal: parse_record": internal(parse_record)}
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            timings[name].append(timed(run, args.records))
    figures = {name: statistics.median(values) for name, values in timings.items()}
    print(json.dumps({
        "records": args.records, "rounds": args.rounds,
        "us_per_record": {name: round(us, 2) for name, us in figures.items()},
        "ratios": {
            "ingress: structured / parse_event": ratio(figures, "ingress: structured", "ingress: parse_event"),
            "ingress: binary / structured": ratio(figures, "ingress: binary", "ingress: structured"),
            "internal: parse_record / parse_event": ratio(figures, "internal: parse_record", "internal: parse_event"),
        },
    }, indent=2))


def ratio(figures: dict[str, float], name: str, base: str) -> float:
    return round(figures[name] / figures[base], 2)


if __name__ == "__main__":
    main()
