"""Self-signed RSA identities for AS2 tests: a certificate and key per party, in memory
and as PEM files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from sync.as2 import Identity, self_signed, write_identity


def make_identity(name: str) -> Identity:
    """``name``'s AS2 identity: a 2048-bit RSA key and a certificate valid 2026-2035."""
    return self_signed(name, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def certificate_pem(identity: Identity) -> str:
    return identity.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def write_pem(identity: Identity, folder: Path) -> tuple[Path, Path]:
    """The identity's certificate and key as PEM files in ``folder``."""
    cert, key = folder / f"{identity.as2_id}.crt", folder / f"{identity.as2_id}.key"
    write_identity(identity, cert, key)
    return cert, key
