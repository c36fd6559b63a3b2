"""Folding and phrase matching (shared/text.py) and the linear-time promise of every text rule."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest
import re2

from services.aftersales import message_patterns
from services.aftersales.message_rules import SellerMessageRule, check_seller_message
from services.listing import listing_patterns
from services.listing.listing_rules import Rule, check_listing
from shared import contact
from shared.text import AnyOf, blank, compile_phrases, fold, found
from tests.support.content_corpus import clean_draft as draft

ROOT = Path(__file__).resolve().parents[3]
#: Every module that runs patterns over seller text.
RULE_MODULES = [
    "shared/text.py",
    "shared/contact.py",
    "shared/review_words.py",
    "services/listing/listing_rules.py",
    "services/listing/listing_patterns.py",
    "services/aftersales/message_rules.py",
    "services/aftersales/message_patterns.py",
]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Fr\u200bee", "free"),  # zero-width space
        ("F\u00adree", "free"),  # soft hyphen
        ("\u202eFree\u202c", "free"),  # bidi override
        ("\uff26\uff52\uff45\uff45", "free"),  # full-width
        ("\U0001d41f\U0001d42b\U0001d41e\U0001d41e", "free"),  # mathematical bold
        ("Fr\u0435\u0435", "free"),  # Cyrillic e
        ("\u0455\u0430l\u0435", "sale"),  # Cyrillic s, a, e
        ("Rez\u00e9nsion", "rezension"),  # accents
        ("f\u0332r\u0332e\u0332e\u0332", "free"),  # combining underline
        ("\u0191ree", "free"),  # Latin f with a hook
        ("\ua730\u0280\u1d07\u1d07", "free"),  # small capitals
        ("\u0665\u0665\u0665", "555"),  # Arabic-Indic digits
        ("5\ufe0f\u20e3", "5"),  # a keycap
        ("f\U0001f525r", "f*r"),  # an emoji between letters is punctuation
        ("\u30ec\u30d3\u30e5\u30fc", "\u30ec\u30d3\u30e5\u30fc"),  # Japanese keeps its voiced marks
        ("\u3007\u4e5d\u3007", "\u3007\u4e5d\u3007"),  # kanji digits are no Latin O
    ],
)
def test_folding_undoes_the_disguises_of_a_word(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_folding_can_keep_the_case_of_plain_letters() -> None:
    assert fold("Sh\u043ep.NET", casefold=False) == "Shop.NET"


@pytest.mark.parametrize("title", ["\u200b\u200b", "\u3164", "\u2800 \u2800", "\u00a0\u200d"])
def test_a_title_of_only_invisible_characters_is_empty(title: str) -> None:
    assert check_listing(replace(draft(), title=title)).rules == (Rule.L1,)


FREE_SHIPPING = compile_phrases("free shipping")


@pytest.mark.parametrize(
    "text",
    ["free shipping", "FREE SHIPPING", "f r e e  s h i p p i n g", "f.r.e.e shipping", "fr-ee sh-ipping",
     "fr33 sh1pping", "freeshipping", "free\u2022shipping", "\u201cfree\u201d shipping", "FREE\nSHIPPING",
     "free\u2028shipping", "phree shipping", "fr\u20ac\u20ac shipping", "f - r - e - e shipping"],
)
def test_a_phrase_matches_across_spacing_punctuation_and_leetspeak(text: str) -> None:
    assert found(FREE_SHIPPING, fold(text))


@pytest.mark.parametrize("text", ["carefree shipping", "free shippings", "free of shipping costs", "freedom shipping"])
def test_a_phrase_does_not_match_inside_other_words(text: str) -> None:
    assert not found(FREE_SHIPPING, fold(text))


def test_blanking_keeps_the_text_around_the_matches() -> None:
    assert blank(FREE_SHIPPING, "a free shipping b") == "a ~~~~~~~~~~~~~ b"


def test_a_lone_surrogate_or_a_nul_never_makes_a_rule_fail() -> None:
    assert check_seller_message("\ud800 call 555-123-4567 \x00", review_requests_so_far=0) == [
        SellerMessageRule.CONTACT_DETAILS
    ]
    assert check_listing(replace(draft(), title="Mug \ud800", description="\x00 \udfff")).accepted


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


@pytest.mark.parametrize("module", RULE_MODULES)
def test_no_rule_module_uses_the_backtracking_stdlib_re(module: str) -> None:
    assert "re" not in _imports(ROOT / module)


@pytest.mark.parametrize("module", [contact, listing_patterns, message_patterns])
def test_every_compiled_rule_pattern_is_re2(module: object) -> None:
    patterns = [value for value in vars(module).values() if isinstance(value, (re2._Regexp, AnyOf))]
    assert len(patterns) >= 5
    for value in patterns:
        parts = value.parts if isinstance(value, AnyOf) else (value,)
        assert all(isinstance(part, re2._Regexp) for part in parts)
