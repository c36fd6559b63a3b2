"""The content-rule corpus (tests/corpus): every evasion caught, every legitimate seller text passed.

Entries marked `miss` are the known, honest failures (bench/README.md counts them): the test asserts
they still fail, so that a fix shows up and the mark comes off.
"""

from __future__ import annotations

from collections import Counter

import pytest

from services.aftersales.message_rules import is_review_request
from tests.support.content_corpus import Entry, broken_rules, evasions, legitimate, verdict_holds

EVASIONS = evasions()
LEGITIMATE = legitimate()
LANGUAGES = {"en", "de", "fr", "es", "it", "ja", "zh"}


@pytest.mark.parametrize("entry", EVASIONS, ids=lambda entry: entry.id)
def test_an_evasion_breaks_its_rule(entry: Entry) -> None:
    assert verdict_holds(entry) != entry.miss, f"{entry.text!r} broke {sorted(broken_rules(entry))}"


@pytest.mark.parametrize("entry", LEGITIMATE, ids=lambda entry: entry.id)
def test_a_legitimate_seller_text_breaks_no_rule(entry: Entry) -> None:
    assert verdict_holds(entry) != entry.miss, f"{entry.text!r} broke {sorted(broken_rules(entry))}"


@pytest.mark.parametrize("entry", [e for e in EVASIONS if e.rule == "M8"], ids=lambda entry: entry.id)
def test_a_review_request_in_any_language_or_disguise_is_counted_for_m8(entry: Entry) -> None:
    """M8 counts the review requests an order received by this flag, stored with each delivered message."""
    assert is_review_request(entry.text)


def test_the_corpus_has_300_evasions_covering_every_text_rule() -> None:
    per_rule = Counter(entry.rule for entry in EVASIONS)
    assert len(EVASIONS) >= 300
    assert set(per_rule) == {f"L{n}" for n in range(1, 8)} | {f"M{n}" for n in range(1, 9)}


def test_the_corpus_has_150_legitimate_texts_in_seven_languages() -> None:
    assert len(LEGITIMATE) >= 150
    assert {entry.lang for entry in LEGITIMATE if entry.kind == "listing"} == LANGUAGES
    assert {entry.lang for entry in LEGITIMATE if entry.kind == "message"} == LANGUAGES


def test_known_misses_are_few() -> None:
    assert sum(entry.miss for entry in EVASIONS) <= 0.05 * len(EVASIONS)
    assert sum(entry.miss for entry in LEGITIMATE) <= 0.02 * len(LEGITIMATE)
