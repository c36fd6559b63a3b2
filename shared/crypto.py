"""Crypto-shredding (domain.md section 8): buyer data on a kept topic is sealed with a key per order.

A `DataKey` is 256 random bits, held only where erasure can destroy it (the order service's schema).
`seal` gives a versioned AES-GCM envelope, `{"enc": "v1", "kid": ..., "nonce": ..., "ct": ...}`, that
names its key but never holds it; the associated data binds the ciphertext to its seller, order and
field, so a sealed value moved to another order or field does not open. Once the key is gone the
envelope is noise: the copies on topics, in outboxes and in replays need no erasure of their own.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field

KEY_BYTES = 32
NONCE_BYTES = 12  # the AES-GCM standard nonce; random, so one key seals many values safely
_B64URL = r"^[A-Za-z0-9_-]*$"


class Unsealable(ValueError):
    """The envelope does not open with this key: wrong key, wrong context, or tampered with."""


@dataclass(frozen=True, repr=False)
class DataKey:
    """A data key; `repr` never shows the secret, so a key cannot leak into a log line."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a data key has {KEY_BYTES} bytes")

    @classmethod
    def generate(cls) -> DataKey:
        return cls(os.urandom(KEY_BYTES))

    @property
    def kid(self) -> str:
        """A short name of the key (a hash prefix): tells which key sealed a value, reveals nothing of it."""
        return hashlib.sha256(b"sellerflow-kid" + self.secret).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"DataKey(kid={self.kid})"


class Sealed(BaseModel):
    """A value sealed with a data key (AES-256-GCM): what travels instead of the buyer's data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enc: Literal["v1"] = Field(default="v1", description="Envelope version: v1 is AES-256-GCM.")
    kid: str = Field(pattern=r"^[0-9a-f]{16}$", description="Which data key sealed it (never the key).")
    nonce: str = Field(min_length=16, max_length=16, pattern=_B64URL, description="96-bit nonce, base64url.")
    ct: str = Field(min_length=22, max_length=8192, pattern=_B64URL,
                    description="Ciphertext with its 128-bit tag, base64url.")


def seal(key: DataKey, plaintext: bytes, *, context: str) -> Sealed:
    """Encrypt `plaintext` for `context` (e.g. `S-1/O-1/ship_to`): only the same key and context open it."""
    nonce = os.urandom(NONCE_BYTES)
    ct = AESGCM(key.secret).encrypt(nonce, plaintext, context.encode())
    return Sealed(kid=key.kid, nonce=_b64(nonce), ct=_b64(ct))


def unseal(key: DataKey, sealed: Sealed, *, context: str) -> bytes:
    """The plaintext; `Unsealable` if the key or the context is not the one it was sealed with."""
    if sealed.kid != key.kid:
        raise Unsealable(f"sealed with key {sealed.kid}, not {key.kid}")
    try:
        return AESGCM(key.secret).decrypt(_unb64(sealed.nonce), _unb64(sealed.ct), context.encode())
    except (InvalidTag, ValueError) as error:
        raise Unsealable("the envelope does not open in this context") from error


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
