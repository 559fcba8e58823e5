"""Fixtures: real Directus hubs on free ports, each on a throwaway copy of a template.

On SQLite (the default) the template is a bootstrapped hub database made once per Directus
lockfile (see :mod:`directus.template`), and its migrated copy once per migrations'
content, so a test hub starts in a few seconds. ``TANDEM_TEST_DB=postgres`` puts every
hub on a database of a throwaway PostgreSQL cluster instead (:mod:`tests.databases`).
Nothing here fakes the hub.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from directus import HubClient
from directus.install import HubInstall, ensure_installed
from directus.process import Hub
from directus.template import Template, ensure_template
from migrations.accounts import PORTAL_AUTH_EMAIL, SYNC_SERVICE_EMAIL, set_service_token
from portal import Config, create_app
from tests.databases import Databases, PostgresDatabases, SqliteDatabases, chosen, hub_config
from tests.helpers import RunningHub
from tests.pg import PgCluster, find_bin_dir

# Under CI=true, a skipped PostgreSQL test fails the run (see tests/ci_skips.py).
pytest_plugins = ("tests.ci_skips",)


SQLITE_ONLY = "sqlite_only"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SQLITE_ONLY}(reason): reads SQLite's own storage; skipped under TANDEM_TEST_DB=postgres",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``TANDEM_TEST_DB=postgres``, run the tests that use the fixtures' hubs (they
    are the ones a database changes), and skip those marked ``sqlite_only``."""
    if chosen() != "postgres":
        return
    hub_backed = [item for item in items if "databases" in getattr(item, "fixturenames", ())]
    config.hook.pytest_deselected(items=[item for item in items if item not in hub_backed])
    items[:] = hub_backed
    for item in hub_backed:
        marker = item.get_closest_marker(SQLITE_ONLY)
        if marker is not None:
            why = marker.args[0] if marker.args else "SQLite only"
            item.add_marker(pytest.mark.skip(reason=f"on SQLite only: {why}"))


@pytest.fixture(scope="session")
def hub_install() -> HubInstall:
    return ensure_installed()


@pytest.fixture(scope="session")
def hub_template(hub_install: HubInstall) -> Template:
    return ensure_template(hub_install)


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest,
    hub_install: HubInstall,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Databases]:
    """Where this run's hubs keep their data: SQLite files, or PostgreSQL databases under
    ``TANDEM_TEST_DB=postgres`` (see tests/databases.py)."""
    if chosen() == "sqlite":
        yield SqliteDatabases(hub_install, request.getfixturevalue("hub_template"))
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("TANDEM_TEST_DB=postgres, but PostgreSQL is not installed (no initdb)")
    with PgCluster.create(bin_dir) as cluster:
        yield PostgresDatabases(hub_install, cluster, tmp_path_factory.mktemp("pg-templates"))


StartHub = Callable[..., RunningHub]


@contextlib.contextmanager
def _hub_starter(
    install: HubInstall, databases: Databases, folders: pytest.TempPathFactory, *, migrated: bool
) -> Iterator[StartHub]:
    """Start hubs, each on its own new database; all are stopped on exit."""
    started: list[Hub] = []

    def start(**extra_env: str) -> RunningHub:
        folder = folders.mktemp("hub")
        database = databases.new(folder, migrated=migrated)
        hub = Hub(install, hub_config(folder, database.db, **extra_env))
        hub.start()
        started.append(hub)
        return RunningHub(hub, databases.admin_email, databases.admin_password)

    try:
        yield start
    finally:
        for hub in started:
            hub.stop()


@pytest.fixture(scope="session")
def start_hub(
    hub_install: HubInstall, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartHub]:
    """Start a fresh, unmigrated hub (bootstrapped by Directus only)."""
    with _hub_starter(hub_install, databases, tmp_path_factory, migrated=False) as start:
        yield start


@pytest.fixture(scope="session")
def start_migrated_hub(
    hub_install: HubInstall, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartHub]:
    """Start a fresh hub with every migration applied."""
    with _hub_starter(hub_install, databases, tmp_path_factory, migrated=True) as start:
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
