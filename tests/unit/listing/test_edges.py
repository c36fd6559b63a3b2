"""What the listing service puts on the wire and takes from HTTP: texts fit their limits, a PATCH says what changes."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.listing.api import AppealDecisionIn, ListingChangesIn
from services.listing.service import short, shorts, tax_id_key
from shared.events.common import Condition


def test_a_short_text_keeps_its_200_characters_and_cuts_longer_ones_with_an_ellipsis():
    assert short("x" * 200) == "x" * 200
    assert short("x" * 201) == "x" * 199 + "\u2026"
    assert len(short("breach " * 100)) == 200


def test_a_short_text_is_one_line_and_never_empty():
    assert short("  two\nlines  ") == "two lines"
    assert short("   ") == "-"


def test_more_than_twenty_reasons_are_counted_in_the_last():
    reasons = shorts([f"reason {i}" for i in range(25)])

    assert len(reasons) == 20
    assert reasons[-1] == "... and 6 more"
    assert shorts(["a", "b"]) == ["a", "b"]


def test_one_tax_id_written_two_ways_is_one_key_and_the_key_is_not_the_tax_id():
    assert tax_id_key("de 123.456-789") == tax_id_key("DE123456789")
    assert "123456789" not in tax_id_key("DE123456789")


def test_a_patch_changes_only_the_fields_it_names():
    body = ListingChangesIn.model_validate({"price": "9.50", "condition": "used_good", "bullet_points": ["a"],
                                            "at": "2026-03-02T09:00:00Z"})

    assert body.changes() == {"price": Decimal("9.50"), "condition": Condition.USED_GOOD, "bullet_points": ("a",)}


def test_a_patch_may_clear_the_category_but_not_a_required_field():
    body = ListingChangesIn.model_validate({"category": None, "title": None})

    assert body.changes() == {"category": None}


def test_a_refused_appeal_resolves_no_violation():
    with pytest.raises(ValidationError, match="resolves no violation"):
        AppealDecisionIn.model_validate({"accepted": False, "resolved_violation_ids": ["V-1"]})
