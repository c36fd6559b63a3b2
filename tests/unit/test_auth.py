"""Bearer tokens: signed, scoped to one seller, and refused when tampered with."""

from __future__ import annotations

import pytest

from shared.auth import InvalidToken, Principal, operator_token, seller_token, verify_token

SECRET = "unit-test-secret"


def test_a_seller_token_names_its_seller_and_reaches_only_its_data() -> None:
    principal = verify_token(SECRET, seller_token(SECRET, "S-1"))
    assert principal == Principal("seller", "S-1")
    assert principal.may_access("S-1")
    assert not principal.may_access("S-2")


def test_the_operator_token_reaches_every_seller() -> None:
    principal = verify_token(SECRET, operator_token(SECRET))
    assert principal.is_operator and principal.may_access("anyone")


@pytest.mark.parametrize(
    "token",
    [
        seller_token("another-secret", "S-1"),  # signed with another secret
        seller_token(SECRET, "S-1")[:-2] + "xx",  # signature tampered with
        "not-a-token",
        "",
    ],
)
def test_a_forged_or_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_a_token_whose_claims_were_swapped_is_refused() -> None:
    body_s1, _, signature_s1 = seller_token(SECRET, "S-1").partition(".")
    body_op, _, _ = operator_token(SECRET).partition(".")
    with pytest.raises(InvalidToken):
        verify_token(SECRET, f"{body_op}.{signature_s1}")
    assert verify_token(SECRET, f"{body_s1}.{signature_s1}").seller_id == "S-1"
