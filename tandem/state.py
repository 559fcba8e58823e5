"""The git-ignored state folder: generated secrets, the hub's data, logs.

Secrets are generated on first use and kept in ``secrets.json`` (mode 0600). They are
never hard-coded, never printed, never logged.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from directus.files import write_private_json
from directus.template import generate_admin


@dataclass(frozen=True)
class Secrets:
    hub_secret: str
    admin_email: str
    admin_password: str
    portal_secret_key: str
    sync_token: str
    portal_auth_token: str
    receiver_token: str
    #: The production topology's PostgreSQL login (user ``tandem``).
    database_password: str

    @classmethod
    def generate(cls) -> Secrets:
        email, password = generate_admin()
        return cls(
            hub_secret=secrets.token_urlsafe(32),
            admin_email=email,
            admin_password=password,
            portal_secret_key=secrets.token_urlsafe(48),
            sync_token=secrets.token_urlsafe(32),
            portal_auth_token=secrets.token_urlsafe(32),
            receiver_token=secrets.token_urlsafe(32),
            database_password=secrets.token_urlsafe(24),
        )


def load_or_create_secrets(state_dir: Path) -> Secrets:
    """Read the state's secrets, generating and saving them the first time.

    A state made before a secret existed gets that secret generated and saved.
    """
    path = state_dir / "secrets.json"
    if path.exists():
        saved = json.loads(path.read_text())
        fresh = asdict(Secrets.generate())
        if fresh.keys() <= saved.keys():
            return Secrets(**saved)
        merged = {**fresh, **saved}  # saved values win: the hub was bootstrapped with them
        write_private_json(path, merged)
        return Secrets(**merged)
    state_dir.mkdir(parents=True, exist_ok=True)
    fresh = Secrets.generate()
    write_private_json(path, asdict(fresh))
    return fresh
