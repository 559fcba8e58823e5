"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from directus import HubClient
from directus.process import Hub, HubConfig, free_port


@dataclass
class RunningHub:
    hub: Hub
    admin_email: str
    admin_password: str

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def db_path(self) -> Path:
        path = self.hub.config.sqlite_path
        assert path is not None
        return path

    def admin(self, **kwargs: object) -> HubClient:
        return HubClient.login(self.url, self.admin_email, self.admin_password, **kwargs)


def hub_config(folder: Path, db_path: Path, **extra_env: str) -> HubConfig:
    return HubConfig(
        port=free_port(),
        data_dir=folder,
        secret=secrets.token_urlsafe(32),
        db={"DB_CLIENT": "sqlite3", "DB_FILENAME": str(db_path)},
        extra_env=extra_env,
    )
