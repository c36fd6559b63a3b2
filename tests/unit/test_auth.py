"""Bearer tokens: standard JWTs, scoped to one seller, expiring, rotatable, refused when foreign or tampered with;
and the secrets that sign them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.auth import (
    InsecureSecret,
    InvalidToken,
    Principal,
    TokenKeys,
    issue_token,
    key_id,
    operator_token,
    parse_ttl,
    require_auth_secrets,
    secret_problem,
    seller_token,
    verify_token,
)
from shared.settings import DEVELOPMENT_AUTH_SECRET, Settings

SECRET = "unit-test-secret-0123456789abcdefghijklmnop"
OLD_SECRET = "unit-test-secret-previous-9876543210zyxwvuts"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_seller_token_names_its_seller_and_reaches_only_its_data() -> None:
    principal = verify_token(SECRET, seller_token(SECRET, "S-1"))
    assert principal == Principal("seller", "S-1")
    assert principal.may_access("S-1") and not principal.may_access("S-2")


def test_the_operator_token_reaches_every_seller() -> None:
    principal = verify_token(SECRET, operator_token(SECRET))
    assert principal.is_operator and principal.may_access("anyone")


def test_a_token_is_a_standard_jwt_with_every_claim_and_the_signing_key_named() -> None:
    token = seller_token(SECRET, "S-1", ttl=timedelta(minutes=30))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="sellerflow-api")
    assert header["alg"] == "HS256" and header["kid"] == key_id(SECRET) != key_id(OLD_SECRET)
    assert {k: claims[k] for k in ("sub", "role", "iss", "aud")} == {
        "sub": "S-1", "role": "seller", "iss": "sellerflow", "aud": "sellerflow-api"}
    assert claims["exp"] - claims["iat"] == 30 * 60


def test_an_expired_token_is_refused() -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(InvalidToken):
        verify_token(SECRET, issue_token(SECRET, Principal("seller", "S-1"), ttl=timedelta(hours=1), now=past))
    epoch = jwt.encode({"sub": "S-1", "role": "seller", "iat": 0, "exp": 1, "iss": "sellerflow",
                        "aud": "sellerflow-api"}, SECRET, headers={"kid": key_id(SECRET)})
    with pytest.raises(InvalidToken):
        verify_token(SECRET, epoch)


def _claims(**changes: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {"sub": "S-1", "role": "seller", "iat": now, "exp": now + 600,
                                 "iss": "sellerflow", "aud": "sellerflow-api"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    "token",
    [
        seller_token("another-secret-of-sufficient-length-0123", "S-1"),  # signed with another secret
        seller_token(SECRET, "S-1")[:-2] + "xx",  # signature tampered with
        jwt.encode(_claims(iss="someone-else"), SECRET, headers={"kid": key_id(SECRET)}),
        jwt.encode(_claims(aud="another-api"), SECRET, headers={"kid": key_id(SECRET)}),
        jwt.encode(_claims(exp=None), SECRET, headers={"kid": key_id(SECRET)}),  # never expires
        jwt.encode(_claims(role="admin"), SECRET, headers={"kid": key_id(SECRET)}),
        jwt.encode(_claims(sub=""), SECRET, headers={"kid": key_id(SECRET)}),
        jwt.encode(_claims(), SECRET * 2, algorithm="HS512", headers={"kid": key_id(SECRET)}),  # refused: alg
        jwt.encode(_claims(), SECRET),  # no kid
        f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': key_id(SECRET)})}.{_b64(_claims())}.",
        f"{_b64({'alg': 'HS256', 'kid': ['not', 'a', 'string']})}.{_b64(_claims())}.sig",
        "not-a-token",
        "a.b.c",
        "",
        "\ud800.\x00.x",
    ],
    ids=["other secret", "tampered", "other issuer", "other audience", "no expiry", "unknown role", "no subject",
         "other algorithm", "no kid", "alg none", "kid not a string", "garbage", "three parts", "empty",
         "unencodable"],
)
def test_a_foreign_tampered_or_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_a_token_signed_with_the_previous_secret_verifies_during_a_rotation_and_new_ones_use_the_current() -> None:
    rotated = TokenKeys(current=SECRET, previous=OLD_SECRET)
    assert verify_token(rotated, seller_token(OLD_SECRET, "S-1")).seller_id == "S-1"
    assert verify_token(rotated, seller_token(SECRET, "S-1")).seller_id == "S-1"
    with pytest.raises(InvalidToken):  # once the previous secret is dropped, its tokens are not accepted
        verify_token(TokenKeys(current=SECRET), seller_token(OLD_SECRET, "S-1"))
    keys = TokenKeys.of(Settings(auth_secret=SECRET, auth_secret_previous=OLD_SECRET))
    assert keys == rotated


def test_an_invalid_token_error_never_quotes_the_token() -> None:
    token = seller_token(SECRET, "S-1")
    with pytest.raises(InvalidToken) as refused:
        verify_token(OLD_SECRET, token)
    assert token not in str(refused.value) and token.split(".")[1] not in repr(refused.value)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("7d", 604800),
                                               ("120", 120)])
def test_a_token_lifetime_is_read_in_seconds_minutes_hours_or_days(text: str, seconds: int) -> None:
    assert parse_ttl(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["0", "1y", "-1h", "91d", "", "h"])
def test_a_token_lifetime_that_is_nothing_forever_or_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ttl(text)


_STRONG = "3f9c1e0b7a5d4c2e8f6a9b1c0d3e5f7a"  # openssl rand -hex 16: 32 characters


@pytest.mark.parametrize(
    ("secret", "refused"),
    [
        (DEVELOPMENT_AUTH_SECRET, "development value"),
        ("CHANGE-ME", "at least 32 bytes"),
        ("short-but-random-Qx7", "at least 32 bytes"),
        ("dev-only-auth-secret-do-not-use-in-production", "placeholder"),
        ("CHANGE-ME-CHANGE-ME-CHANGE-ME-CHANGE-ME", "placeholder"),
        ("a" * 64, "placeholder"),
        (_STRONG, None),
    ],
)
def test_a_secret_outside_the_embedded_default_must_be_long_random_and_not_a_known_value(
    secret: str, refused: str | None,
) -> None:
    problem = secret_problem(secret)
    assert (problem is None) if refused is None else (problem is not None and refused in problem)


def test_a_service_on_a_real_broker_and_database_refuses_the_development_secret_but_the_embedded_default_may_use_it(
) -> None:
    real = {"kafka_bootstrap_servers": "kafka:9092", "database_url": "postgresql://db/sellerflow"}
    with pytest.raises(InsecureSecret, match="AUTH_SECRET is not set"):
        require_auth_secrets(Settings(**real))
    with pytest.raises(InsecureSecret, match="AUTH_SECRET_PREVIOUS"):
        require_auth_secrets(Settings(**real, auth_secret=_STRONG, auth_secret_previous="CHANGE-ME"))
    require_auth_secrets(Settings(**real, auth_secret=_STRONG, auth_secret_previous=_STRONG[::-1]))
    require_auth_secrets(Settings(**real, auth_secret=_STRONG, auth_secret_previous=""))  # compose: set, empty
    assert TokenKeys.of(Settings(auth_secret=_STRONG, auth_secret_previous="")).previous is None
    require_auth_secrets(Settings())  # the embedded default
    require_auth_secrets(Settings(**real, sellerflow_embedded=True))  # a service the embedded default started
