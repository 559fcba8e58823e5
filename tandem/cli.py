"""The ``tandem`` operator command."""

from __future__ import annotations

import logging
import os
import sys

import click

from directus import HubClient, HubError, HubProcessError
from directus.install import ensure_installed
from migrations import MigrationFailed, migrate
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from tandem import stack
from tandem.settings import SettingsError, StackSettings
from tandem.state import load_or_create_secrets


def _settings() -> StackSettings:
    try:
        return StackSettings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what is being done.")
def cli(verbose: bool) -> None:
    """Tandem: the supplier-distributor collaboration portal."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@cli.command()
def setup() -> None:
    """Install the pinned Directus and Node 22 (cached by lockfile)."""
    settings = _settings()
    try:
        install = ensure_installed(settings.cache_dir)
    except HubProcessError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"hub: Directus {install.version} in {install.root}, Node {install.node}")


@cli.command()
def run() -> None:
    """Run the hub, the portal and the scheduler until Ctrl-C."""
    try:
        status = stack.run(_settings(), click.echo)
    except (HubProcessError, HubError, MigrationFailed) as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(status)


@cli.command("migrate")
@click.option(
    "--hub-url",
    envvar="TANDEM_HUB_URL",
    help="Migrate this hub, with the admin login from TANDEM_HUB_ADMIN_EMAIL and "
    "TANDEM_HUB_ADMIN_PASSWORD. Without it: the local hub of the state folder.",
)
def migrate_command(hub_url: str | None) -> None:
    """Apply the hub's schema migrations that are not applied yet."""
    try:
        if hub_url:
            _migrate_remote(hub_url)
        else:
            _migrate_local(_settings())
    except MigrationFailed as exc:
        raise click.ClickException(str(exc)) from None
    except (HubProcessError, HubError) as exc:
        raise click.ClickException(f"{exc.__class__.__name__}: {exc}") from None


def _migrate_remote(hub_url: str) -> None:
    email = os.environ.get("TANDEM_HUB_ADMIN_EMAIL")
    password = os.environ.get("TANDEM_HUB_ADMIN_PASSWORD")
    if not email or not password:
        raise click.ClickException(
            "set TANDEM_HUB_ADMIN_EMAIL and TANDEM_HUB_ADMIN_PASSWORD to migrate a remote hub"
        )
    admin = HubClient.login(hub_url, email, password)
    applied = migrate(admin)
    token = os.environ.get("TANDEM_SYNC_TOKEN")
    if token:
        set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    click.echo(f"applied: {', '.join(applied) or 'nothing, all up to date'}")


def _migrate_local(settings: StackSettings) -> None:
    secrets = load_or_create_secrets(settings.state_dir)
    if HubClient(settings.hub_url).ping():
        applied = stack.provision(settings.hub_url, secrets)
    else:
        hub = stack.hub_for(settings, secrets)
        hub.start()
        try:
            applied = stack.provision(hub.url, secrets)
        finally:
            hub.stop()
    click.echo(f"applied: {', '.join(applied) or 'nothing, all up to date'}")


def main() -> None:
    cli()
