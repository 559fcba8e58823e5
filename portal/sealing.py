"""Hub sessions sealed for storage outside the portal: in a session cookie or a token row.

A sealed session is Fernet (AES-128-CBC + HMAC-SHA256, with a timestamp) over the user id
and the hub session, under a key derived by HKDF-SHA256 from a secret that the holder of
the sealed text does not have: the portal's SECRET_KEY for cookies, the token's own
secret for personal API tokens.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from directus import Tokens


def derive_fernet(secret: bytes, *, salt: bytes, purpose: bytes) -> Fernet:
    """A Fernet key for one purpose, derived from ``secret`` (HKDF-SHA256)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class Sealed:
    """What a seal holds: whose hub session, and the session."""

    user_id: str
    tokens: Tokens


def seal(fernet: Fernet, user_id: str, tokens: Tokens) -> str:
    payload = {
        "u": user_id,
        "a": tokens.access_token,
        "r": tokens.refresh_token,
        "e": tokens.expires_at,
    }
    return fernet.encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()


def unseal(fernet: Fernet, sealed: str, max_age_s: int | None = None) -> Sealed | None:
    """The sealed session, or None if it was altered, sealed under another key, or is older
    than ``max_age_s``."""
    try:
        payload = json.loads(fernet.decrypt(sealed.encode(), ttl=max_age_s))
        return Sealed(payload["u"], Tokens(payload["a"], payload["r"], float(payload["e"])))
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None
