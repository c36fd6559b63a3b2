"""The sealed envelope of buyer data (shared/crypto.py, shared/pii.py): it opens with its key and context
only, says which key sealed it without holding it, and is noise once the key is destroyed."""

from __future__ import annotations

import base64
import json

import pytest
from pydantic import ValidationError

from shared.crypto import DataKey, Sealed, Unsealable, seal, unseal
from shared.pii import PostalAddress, open_personal, open_text, order_context, seal_personal, seal_text

ADDRESS = PostalAddress("Zoë Käufer", ("Hauptstraße 5", "Hinterhaus"), "Berlin", None, "10115", "DE", "+49 30 1234")
CONTEXT = order_context("S-1", "O-1", "ship_to")


def test_a_sealed_value_opens_with_its_key_and_context_to_exactly_what_was_sealed() -> None:
    key = DataKey.generate()
    sealed = seal(key, "grüße \u2028 ✓".encode(), context="S-1/O-1/reason")
    assert unseal(key, sealed, context="S-1/O-1/reason").decode() == "grüße \u2028 ✓"


def test_the_envelope_is_versioned_json_naming_its_key_but_never_holding_it() -> None:
    key = DataKey.generate()
    wire = json.loads(seal(key, b"Ada Buyer", context=CONTEXT).model_dump_json())
    assert set(wire) == {"enc", "kid", "nonce", "ct"} and wire["enc"] == "v1" and wire["kid"] == key.kid
    raw = json.dumps(wire).encode()
    assert b"Ada" not in raw and key.secret not in raw and base64.urlsafe_b64encode(key.secret)[:20] not in raw
    assert repr(key) == f"DataKey(kid={key.kid})"  # a logged key shows only its id


def test_sealing_the_same_text_twice_gives_different_ciphertexts() -> None:
    key = DataKey.generate()
    assert seal(key, b"same", context=CONTEXT).ct != seal(key, b"same", context=CONTEXT).ct


def test_another_key_another_context_or_a_changed_byte_does_not_open() -> None:
    key = DataKey.generate()
    sealed = seal(key, b"1 Main St", context=CONTEXT)
    with pytest.raises(Unsealable):
        unseal(DataKey.generate(), sealed, context=CONTEXT)
    with pytest.raises(Unsealable):  # the same key sealed another order's value: not this one's
        unseal(key, sealed, context=order_context("S-1", "O-2", "ship_to"))
    flipped = sealed.ct[:-2] + ("A" if sealed.ct[-2] != "A" else "B") + sealed.ct[-1]
    with pytest.raises(Unsealable):
        unseal(key, sealed.model_copy(update={"ct": flipped}), context=CONTEXT)


def test_a_destroyed_key_leaves_no_way_to_open_the_copies() -> None:
    key = DataKey.generate()
    copies = [seal_personal(key, ADDRESS, context=CONTEXT) for _ in range(3)]
    kid = key.kid
    del key  # what erasure does to the only copy of the key (the order's row)
    for sealed in copies:
        with pytest.raises(Unsealable):
            open_personal(DataKey.generate(), ADDRESS.erased(), sealed, context=CONTEXT)
        assert sealed.kid == kid


def test_the_personal_part_of_an_address_round_trips_and_the_kept_part_stays_clear() -> None:
    key = DataKey.generate()
    sealed = seal_personal(key, ADDRESS, context=CONTEXT)
    assert open_personal(key, ADDRESS.erased(), sealed, context=CONTEXT) == ADDRESS
    assert ADDRESS.erased() == PostalAddress(None, (), "Berlin", None, None, "DE", None)
    reason = seal_text(key, "ich ziehe um", context=order_context("S-1", "O-1", "buyer_reason"))
    assert open_text(key, reason, context=order_context("S-1", "O-1", "buyer_reason")) == "ich ziehe um"


def test_an_envelope_of_an_unknown_version_or_shape_is_refused_when_read() -> None:
    good = seal(DataKey.generate(), b"x", context=CONTEXT).model_dump()
    for bad in ({**good, "enc": "v2"}, {**good, "nonce": "short"}, {**good, "extra": 1}, {**good, "kid": "KEY"}):
        with pytest.raises(ValidationError):
            Sealed.model_validate(bad)


def test_a_data_key_has_exactly_256_bits() -> None:
    assert len(DataKey.generate().secret) == 32
    with pytest.raises(ValueError, match="32 bytes"):
        DataKey(b"too short")
