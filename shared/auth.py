"""Bearer tokens signed with AUTH_SECRET: one names a seller, or the operator (design.md section 8).

A token is `base64url(json claims) "." base64url(HMAC-SHA256)`. Tokens never reach a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    role: str  # "seller" or "operator"
    seller_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    def may_access(self, seller_id: str) -> bool:
        return self.is_operator or self.seller_id == seller_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def issue_token(secret: str, principal: Principal) -> str:
    claims = {"role": principal.role, "seller": principal.seller_id}
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_sign(secret, body)}"


def seller_token(secret: str, seller_id: str) -> str:
    return issue_token(secret, Principal("seller", seller_id))


def operator_token(secret: str) -> str:
    return issue_token(secret, Principal(OPERATOR))


class InvalidToken(ValueError):
    pass


def verify_token(secret: str, token: str) -> Principal:
    body, _, signature = token.partition(".")
    if not body or not signature or not hmac.compare_digest(signature, _sign(secret, body)):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_unb64(body))
        role = claims["role"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidToken("malformed token") from error
    if role == OPERATOR:
        return Principal(OPERATOR)
    if role == "seller" and isinstance(claims.get("seller"), str):
        return Principal("seller", claims["seller"])
    raise InvalidToken("unknown role")


_bearer = HTTPBearer(auto_error=False, description="A seller token, or the operator token")


async def current_principal(  # async: FastAPI runs a sync dependency in a worker thread, per request
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    secret: str = request.app.state.auth_secret
    try:
        return verify_token(secret, credentials.credentials)
    except InvalidToken:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token",
                            headers={"WWW-Authenticate": "Bearer"}) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_access(principal: Principal, seller_id: str) -> None:
    """A seller reads and changes only its own data; the operator sees all."""
    if not principal.may_access(seller_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this token may not access that seller")


def require_operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "operator token required")
