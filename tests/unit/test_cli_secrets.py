"""`sellerflow run` outside the embedded default refuses a guessable AUTH_SECRET in one line; `token` takes --ttl."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from typer.testing import CliRunner

from sellerflow.cli import app
from shared.settings import get_settings

REAL = {"KAFKA_BOOTSTRAP_SERVERS": "localhost:1", "DATABASE_URL": "postgresql://nobody@localhost:1/none"}


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()  # settings are read once per process: these tests change the environment
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("secret", "reason"),
    [(None, "AUTH_SECRET is not set"), ("CHANGE-ME", "at least 32 bytes"),
     ("dev-only-auth-secret-do-not-use-in-production", "placeholder")],
)
def test_a_service_with_a_real_broker_and_database_refuses_to_start_with_a_guessable_secret(
    secret: str | None, reason: str,
) -> None:
    env = {**REAL, "AUTH_SECRET": secret, "SELLERFLOW_EMBEDDED": None}
    result = CliRunner().invoke(app, ["run", "listing"], env=env)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("sellerflow: ") and reason in line


def test_a_token_from_the_cli_lives_as_long_as_its_ttl_says() -> None:
    result = CliRunner().invoke(app, ["token", "seller", "S-1", "--ttl", "30m"], env={"AUTH_SECRET": None})
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == ("S-1", "seller", 1800)
    refused = CliRunner().invoke(app, ["token", "operator", "--ttl", "forever"])
    assert refused.exit_code == 2 and "--ttl" in refused.output
