"""Bearer tokens: standard JWTs that name a seller or the operator (design.md section 8).

HS256, signed with AUTH_SECRET; `kid` names the secret that signed a token, so a token signed with
AUTH_SECRET_PREVIOUS still verifies while a secret is rotated. Every token expires. Tokens never
reach a log line, and an error never quotes one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.settings import DEVELOPMENT_AUTH_SECRET, Settings

OPERATOR = "operator"
SELLER = "seller"
#: Holds a registration receipt: may read that registration's outcome, nothing else.
REGISTRANT = "registrant"
ISSUER = "sellerflow"
AUDIENCE = "sellerflow-api"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
DEFAULT_TTL = timedelta(hours=12)
MAX_TTL = timedelta(days=90)
RECEIPT_TTL = timedelta(days=30)
#: Clocks of the machines that issue and check tokens may differ this much.
LEEWAY = timedelta(seconds=30)
_REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "iss", "aud"]


@dataclass(frozen=True)
class Principal:
    role: str  # "seller", "operator" or "registrant"
    seller_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    def may_access(self, seller_id: str) -> bool:
        return self.is_operator or (self.role == SELLER and self.seller_id == seller_id)

    def registered(self, seller_id: str) -> bool:
        """May read the outcome of that seller's registration: its registrant, or the operator."""
        return self.is_operator or (self.role == REGISTRANT and self.seller_id == seller_id)


class InvalidToken(ValueError):
    """Expired, foreign, tampered with or malformed: the message never quotes the token."""


class InsecureSecret(ValueError):
    """AUTH_SECRET (or AUTH_SECRET_PREVIOUS) is missing, short, or a known value."""


def key_id(secret: str) -> str:
    """A short name of a secret for the `kid` header: tells which secret to verify with, reveals nothing."""
    return hashlib.sha256(b"sellerflow-kid:" + secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TokenKeys:
    """The secret that signs, and every secret still accepted for verifying (the previous one)."""

    current: str
    previous: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> TokenKeys:
        return cls(settings.auth_secret.get_secret_value(), _previous(settings))

    def for_kid(self, kid: object) -> str | None:
        for secret in (self.current, self.previous):
            if secret and isinstance(kid, str) and kid == key_id(secret):
                return secret
        return None


def _previous(settings: Settings) -> str | None:
    """AUTH_SECRET_PREVIOUS; set but empty (compose passes it through) is unset."""
    previous = settings.auth_secret_previous
    return (previous.get_secret_value() or None) if previous is not None else None


def issue_token(secret: str, principal: Principal, *, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None) -> str:
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"a token lives more than 0 and at most {MAX_TTL.days} days")
    issued = now or datetime.now(UTC)
    claims = {
        "sub": OPERATOR if principal.is_operator else principal.seller_id,
        "role": principal.role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": key_id(secret)})


def seller_token(secret: str, seller_id: str, *, ttl: timedelta = DEFAULT_TTL) -> str:
    return issue_token(secret, Principal(SELLER, seller_id), ttl=ttl)


def operator_token(secret: str, *, ttl: timedelta = DEFAULT_TTL) -> str:
    return issue_token(secret, Principal(OPERATOR), ttl=ttl)


def registration_receipt(secret: str, seller_id: str) -> str:
    """What an anonymous registrant gets: the key to its own registration's outcome, and nothing else."""
    return issue_token(secret, Principal(REGISTRANT, seller_id), ttl=RECEIPT_TTL)


def verify_token(keys: TokenKeys | str, token: str) -> Principal:
    """The principal a token names; InvalidToken unless it is ours, current, well-formed and HS256."""
    keys = TokenKeys(keys) if isinstance(keys, str) else keys
    try:
        secret = keys.for_kid(jwt.get_unverified_header(token).get("kid"))
        if secret is None:
            raise InvalidToken("signed with a key this service does not hold")
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
            leeway=LEEWAY, options={"require": _REQUIRED_CLAIMS},
        )
    except InvalidToken:
        raise
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as error:  # not `from error`: it may quote
        raise InvalidToken(type(error).__name__) from None
    role, subject = claims.get("role"), claims.get("sub")
    if role == OPERATOR:
        return Principal(OPERATOR)
    if role in (SELLER, REGISTRANT) and isinstance(subject, str) and subject:
        return Principal(role, subject)
    raise InvalidToken("unknown role")


# --- secrets ---------------------------------------------------------------------------------------

#: Values a template or a tutorial suggests; refused whatever their length.
_PLACEHOLDER = re.compile(r"change-?me|replace-?me|placeholder|example|do-?not-?use|dev-?only|insecure|"
                          r"your-?secret|^(secret|password)", re.IGNORECASE)


def secret_problem(secret: str, name: str = "AUTH_SECRET") -> str | None:
    """Why a secret may not sign tokens outside the embedded default, or None."""
    if secret == DEVELOPMENT_AUTH_SECRET:
        return f"{name} is not set (or is the development value, which only the embedded default may use)"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"{name} must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
    if _PLACEHOLDER.search(secret.replace("_", "-")) or len(set(secret)) < 8:
        return f"{name} looks like a placeholder, not a random value (e.g. `openssl rand -hex 32`)"
    return None


def require_auth_secrets(settings: Settings) -> None:
    """Refuse to serve with a guessable secret, unless on the embedded default (design.md section 8)."""
    if settings.allows_development_secret:
        return
    problem = secret_problem(settings.auth_secret.get_secret_value())
    previous = _previous(settings)
    if problem is None and previous is not None:
        problem = secret_problem(previous, "AUTH_SECRET_PREVIOUS")
    if problem is not None:
        raise InsecureSecret(problem)


_TTL = re.compile(r"^\s*(\d{1,7})\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `7d` (or plain seconds): how long a token lives, at most MAX_TTL."""
    match = _TTL.match(text.lower())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 30m, 1h, 7d)")
    ttl = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"a token lives more than 0 and at most {MAX_TTL.days} days")
    return ttl


# --- HTTP ------------------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A seller token, or an operator token (JWT, HS256)")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def token_keys(request: Request) -> TokenKeys:
    keys: TokenKeys = request.app.state.token_keys
    return keys


async def any_principal(  # async: FastAPI runs a sync dependency in a worker thread, per request
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Whoever a valid token names, a registrant included: only the registration outcome takes this."""
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required", headers=_CHALLENGE)
    try:
        return verify_token(token_keys(request), credentials.credentials)
    except InvalidToken:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired token", headers=_CHALLENGE) from None


async def current_principal(principal: Annotated[Principal, Depends(any_principal)]) -> Principal:
    """A seller or the operator: a registration receipt reaches nothing but its registration's outcome."""
    if principal.role == REGISTRANT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a registration receipt only reads its registration")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
RegistrationReader = Annotated[Principal, Depends(any_principal)]


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """None for an anonymous caller; a token that is given must be valid (401 otherwise)."""
    return None if credentials is None else await any_principal(request, credentials)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_access(principal: Principal, seller_id: str) -> None:
    """A seller reads and changes only its own data; the operator sees all."""
    if not principal.may_access(seller_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this token may not access that seller")


def require_operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "operator token required")
