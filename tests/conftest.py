"""Fixtures: real Directus hubs on free ports, each on a throwaway copy of a cached template.

The template is a bootstrapped hub database made once per Directus lockfile (see
:mod:`directus.template`), so a test hub starts in a few seconds. Nothing here fakes
the hub.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from directus import HubClient
from directus.install import HubInstall, ensure_installed
from directus.process import Hub
from directus.template import Template, copy_database, ensure_template
from migrations.accounts import PORTAL_AUTH_EMAIL, SYNC_SERVICE_EMAIL, set_service_token
from portal import Config, create_app
from tests.helpers import RunningHub, ensure_migrated, hub_config

# Under CI=true, a skipped PostgreSQL test fails the run (see tests/ci_skips.py).
pytest_plugins = ("tests.ci_skips",)


@pytest.fixture(scope="session")
def hub_install() -> HubInstall:
    return ensure_installed()


@pytest.fixture(scope="session")
def hub_template(hub_install: HubInstall) -> Template:
    return ensure_template(hub_install)


StartHub = Callable[..., RunningHub]


@contextlib.contextmanager
def _hub_starter(
    install: HubInstall, template: Template, source: Path, folders: pytest.TempPathFactory
) -> Iterator[StartHub]:
    """Start hubs, each on its own copy of ``source``; all are stopped on exit."""
    started: list[Hub] = []

    def start(**extra_env: str) -> RunningHub:
        folder = folders.mktemp("hub")
        db_path = copy_database(source, folder / "hub.db")
        hub = Hub(install, hub_config(folder, db_path, **extra_env))
        hub.start()
        started.append(hub)
        return RunningHub(hub, template.admin_email, template.admin_password)

    try:
        yield start
    finally:
        for hub in started:
            hub.stop()


@pytest.fixture(scope="session")
def start_hub(
    hub_install: HubInstall, hub_template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartHub]:
    """Start a fresh, unmigrated hub from the template."""
    with _hub_starter(hub_install, hub_template, hub_template.db_path, tmp_path_factory) as start:
        yield start


@pytest.fixture(scope="session")
def migrated_db(hub_install: HubInstall, hub_template: Template) -> Path:
    """The template database with every migration applied, cached per migrations' content."""
    return ensure_migrated(hub_install, hub_template)


@pytest.fixture(scope="session")
def start_migrated_hub(
    hub_install: HubInstall,
    hub_template: Template,
    migrated_db: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StartHub]:
    """Start a fresh hub on a copy of the migrated template."""
    with _hub_starter(hub_install, hub_template, migrated_db, tmp_path_factory) as start:
        yield start


@pytest.fixture(scope="session")
def hub(start_migrated_hub: StartHub) -> RunningHub:
    """The session's migrated hub."""
    return start_migrated_hub()


@pytest.fixture(scope="session")
def admin(hub: RunningHub) -> HubClient:
    return hub.admin()


@pytest.fixture(scope="session")
def sync_token(admin: HubClient) -> str:
    token = secrets.token_urlsafe(32)
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    return token


@pytest.fixture
def sync_hub(hub: RunningHub, sync_token: str) -> HubClient:
    """The hub as the least-privilege sync service account sees it."""
    return HubClient(hub.url, token=sync_token)


@pytest.fixture(scope="session")
def portal_auth_token() -> str:
    """The portal-auth service account's static token (set on each hub a portal uses)."""
    return secrets.token_urlsafe(32)


MakePortal = Callable[..., Flask]


@pytest.fixture
def make_portal(portal_auth_token: str) -> MakePortal:
    """Build a portal on a running hub (default settings unless overridden)."""

    def make(running: RunningHub, **settings: object) -> Flask:
        set_service_token(running.admin(), PORTAL_AUTH_EMAIL, portal_auth_token)
        config = Config(
            secret_key=secrets.token_urlsafe(48),
            hub_url=running.url,
            portal_auth_token=portal_auth_token,
            **settings,  # type: ignore[arg-type]
        )
        app = create_app(config)
        app.testing = True
        return app

    return make


@pytest.fixture
def portal(hub: RunningHub, make_portal: MakePortal) -> Flask:
    """The portal on the session's hub."""
    return make_portal(hub)
