"""Content rules: how much of the corpus they catch, what they wrongly block, and how fast on 100 KB.

    .venv/bin/python bench/content_rules.py [--runs 5]

1. Per rule, over tests/corpus: evasions caught (of those aimed at the rule), and legitimate texts
   wrongly flagged with the rule (of all legitimate texts the rule looks at: titles for L2, every
   listing text for L1-L7, every message for M1-M8).
2. Time to check one 100 KB text (a listing description, and a seller message) of ordinary seller
   prose and of pathological shapes (long runs, floods of near-matches, spaced-out letters, star
   symbols, kanji): the median CPU time of `--runs` runs, after one warm-up run; and how much longer
   a message of 100 KB takes than one of 10 KB (linear: about 10).

Not a test: it prints tables for bench/README.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.aftersales.message_rules import check_seller_message
from services.listing.listing_rules import check_listing
from tests.support.content_corpus import _CLEAN_DRAFT, Entry, broken_rules, evasions, legitimate

SIZE = 100_000
LISTING_RULES = [f"L{n}" for n in range(1, 8)]
MESSAGE_RULES = [f"M{n}" for n in range(1, 9)]


def _looked_at(rule: str, entry: Entry) -> bool:
    """Whether `rule` checks the text of a legitimate entry (L2 looks at titles only)."""
    if rule.startswith("M"):
        return entry.kind == "message"
    return entry.kind == "listing" and (rule != "L2" or entry.field == "title")


def rates() -> None:
    caught, aimed, flagged, looked = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    for entry in evasions():
        assert entry.rule is not None
        aimed[entry.rule] += 1
        caught[entry.rule] += entry.rule in broken_rules(entry)
    legit = legitimate()
    for entry in legit:
        broken = broken_rules(entry)
        for rule in LISTING_RULES + MESSAGE_RULES:
            if _looked_at(rule, entry):
                looked[rule] += 1
                flagged[rule] += rule in broken
    print("| rule | evasions caught | catch rate | legitimate texts flagged | false-positive rate |")
    print("|---|---:|---:|---:|---:|")
    for rule in LISTING_RULES + MESSAGE_RULES:
        print(f"| {rule} | {caught[rule]} / {aimed[rule]} | {caught[rule] / aimed[rule]:.1%} "
              f"| {flagged[rule]} / {looked[rule]} | {flagged[rule] / looked[rule]:.1%} |")
    for batch, name in ((1, "batch 1 (before the matcher)"), (2, "batch 2 (after, from its weak spots)"), (0, "all")):
        aimed_at = [entry for entry in evasions() if batch in (0, entry.batch)]
        hits = sum(entry.rule in broken_rules(entry) for entry in aimed_at)
        texts = [entry for entry in legit if batch in (0, entry.batch)]
        wrong = sum(1 for entry in texts if broken_rules(entry))
        print(f"| {name} | {hits} / {len(aimed_at)} | {hits / len(aimed_at):.1%} "
              f"| {wrong} / {len(texts)} texts | {wrong / len(texts):.1%} |")


def _texts(size: int) -> dict[str, str]:
    prose = " ".join(entry.text for entry in legitimate())
    shapes = {
        "ordinary seller prose (the legitimate corpus, repeated)": prose,
        "the evasion corpus, repeated": " ".join(entry.text for entry in evasions()),
        "one letter, no space": "a",
        "spaced-out letters": "a ",
        "digit groups": "12 ",
        "one long number": "5",
        "at signs": "@",
        "review requests": "please leave a review ",
        "spaced-out promotion": "f r e e ",
        "number words": "five ",
        "half a link, repeated": "www.",
        "angle brackets": "<",
        "star symbols": "\u2605",
        "kanji review words": "\u597d\u8bc4",
        "zero-width spaces": "\u200b",
    }
    return {name: (unit * (size // len(unit) + 1))[:size] for name, unit in shapes.items()}


def _median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # warm-up: RE2 builds its automata's states lazily
    times = []
    for _ in range(runs):
        started = time.process_time()  # CPU time: the machine is shared, wall time would measure the others
        run()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def timings(runs: int) -> None:
    print("| 100 KB text | listing description (ms CPU) | seller message (ms CPU) | message: 100 KB / 10 KB |")
    print("|---|---:|---:|---:|")
    small = _texts(SIZE // 10)
    for name, text in _texts(SIZE).items():
        draft = replace(_CLEAN_DRAFT, description=text)
        listing = _median_ms(lambda: check_listing(draft), runs)  # noqa: B023 - called before the loop moves on
        message = _median_ms(lambda: check_seller_message(text, review_requests_so_far=1), runs)  # noqa: B023
        tenth = _median_ms(lambda: check_seller_message(small[name], review_requests_so_far=1), runs)  # noqa: B023
        print(f"| {name} | {listing:.1f} | {message:.1f} | {message / tenth:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.system()}")
    rates()
    print()
    timings(args.runs)


if __name__ == "__main__":
    main()
