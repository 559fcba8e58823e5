"""The ``tandem`` operator command.

Every command that works on the hub reaches it as its admin, the way ``tandem migrate``
does: the local state's hub by default (started for the command if it is not running,
and migrated), or ``--hub-url`` with the admin login from the environment. Refused input
ends the command with a one-line message naming the field, never a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from demo.generate import Spec, logins
from demo.seed import seed
from directus import HubClient, HubError, HubProcessError
from directus.bulk import LaneError, open_lane
from directus.install import ensure_installed
from domain import clock
from domain.edi_profiles import DOCUMENTS, STANDARDS, TRANSPORTS
from domain.ingest import FileError
from domain.roles import (
    ACCOUNT_MANAGER,
    DISTRIBUTOR_USER,
    GRANULARITIES,
    ORG_KINDS,
    ROLES,
    SUPPLIER_USER,
)
from domain.scorecard import BASES, OTIF_LEVELS
from governance import GovernanceError
from governance.exceptions import set_criteria, set_escalation
from governance.partners import (
    add_partner,
    assign_manager,
    deactivate_partner,
    edi_profile,
    get_partner,
    list_partners,
    pair_partners,
    reactivate_partner,
    set_edi_profile,
    set_planning_settings,
    set_prefixes,
    set_scorecard_settings,
    unassign_manager,
)
from governance.policies import regenerate_all_pairs
from governance.scheduler import jobs as scheduler_jobs
from governance.scheduler import request_run
from governance.scheduler import runs as scheduler_runs
from governance.sharing import grant, list_agreements, revoke
from governance.users import add_user, deactivate_user, find_user, list_users, reactivate_user
from ingest.mappings import load_mapping, save_mapping
from ingest.pipeline import Progress, run_import
from ingest.readers import FIELDS, FORMATS
from migrations import MigrationFailed, migrate
from migrations.accounts import (
    PORTAL_AUTH_EMAIL,
    RECEIVER_EMAIL,
    SYNC_SERVICE_EMAIL,
    set_service_token,
)
from portal import packs
from portal.auth import identify
from portal.data import DataAccess, DataError, insights, reviews
from tandem import backup as backups
from tandem import stack
from tandem.production import ProductionStack, state_database_url
from tandem.servers import ServerUnavailable
from tandem.settings import SettingsError, StackSettings
from tandem.state import load_or_create_secrets
from tandem.tables import table

F = TypeVar("F", bound=Callable[..., Any])
PACK_FORMATS = ("xlsx", "html", "pdf")
#: Who reads a pair's review pack: the pair's manager, supplier and distributor.
PACK_ROLES = (ACCOUNT_MANAGER, SUPPLIER_USER, DISTRIBUTOR_USER)


def _settings() -> StackSettings:
    try:
        return StackSettings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


# -- reaching the hub as its admin ----------------------------------------------------


@dataclass(frozen=True)
class AdminHub:
    client: HubClient
    #: The hub's database for the bulk lane: the local state's hub's, or for a remote hub
    #: TANDEM_HUB_DB_URL (None if unset).
    db_url: str | None
    #: Migrations applied while opening the local hub; None for a remote hub.
    applied: list[str] | None


def hub_url_option(command: F) -> F:
    return click.option(
        "--hub-url",
        envvar="TANDEM_HUB_URL",
        help="Work on this hub, with the admin login from TANDEM_HUB_ADMIN_EMAIL and "
        "TANDEM_HUB_ADMIN_PASSWORD. Without it: the local hub of the state folder.",
    )(command)


@contextlib.contextmanager
def admin_hub(hub_url: str | None) -> Iterator[AdminHub]:
    """The hub as its admin for one command; refusals and hub errors become one-liners."""
    try:
        if hub_url:
            client = _remote_admin(hub_url)
            try:
                yield AdminHub(client, os.environ.get("TANDEM_HUB_DB_URL") or None, None)
            finally:
                _logout(client)
        else:
            with _local_admin(_settings()) as local:
                yield local
    except GovernanceError as exc:
        raise click.ClickException(str(exc)) from None
    except (MigrationFailed, LaneError) as exc:
        raise click.ClickException(str(exc)) from None
    except (HubProcessError, HubError) as exc:
        raise click.ClickException(f"{exc.__class__.__name__}: {exc}") from None


def _remote_admin(hub_url: str) -> HubClient:
    email = os.environ.get("TANDEM_HUB_ADMIN_EMAIL")
    password = os.environ.get("TANDEM_HUB_ADMIN_PASSWORD")
    if not email or not password:
        raise click.ClickException(
            "set TANDEM_HUB_ADMIN_EMAIL and TANDEM_HUB_ADMIN_PASSWORD to work on a remote hub"
        )
    return HubClient.login(hub_url, email, password)


@contextlib.contextmanager
def _local_admin(settings: StackSettings) -> Iterator[AdminHub]:
    """The state's hub, started for the command if it is not running, and migrated."""
    secrets = load_or_create_secrets(settings.state_dir)
    with contextlib.ExitStack() as running:
        url = settings.hub_url
        if not HubClient(url).ping():
            hub = stack.hub_for(settings, secrets)
            hub.start()
            running.callback(hub.stop)
            url = hub.url
        client = HubClient.login(url, secrets.admin_email, secrets.admin_password)
        try:
            applied = stack.provision(client, secrets)
            yield AdminHub(client, settings.lane_url, applied)
        finally:
            _logout(client)


def _logout(client: HubClient) -> None:
    with contextlib.suppress(HubError):
        client.logout()


# -- output and input helpers ---------------------------------------------------------


def _show(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
    else:
        for line in table(rows, columns):
            click.echo(line)


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


DATE = click.DateTime(formats=["%Y-%m-%d"])


class CommaList(click.ParamType):
    """``a,b,c``: a list of items, each converted (e.g. to int), blanks dropped."""

    name = "list"

    def __init__(self, item: Callable[[str], Any] = str) -> None:
        self.item = item

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        try:
            return [self.item(part.strip()) for part in str(value).split(",") if part.strip()]
        except ValueError:
            self.fail(
                f"{value!r} is not a comma-separated list of {self.item.__name__}", param, ctx
            )


def _read_password(password_file: Path | None) -> str:
    if password_file is None:
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    lines = password_file.read_text().splitlines()
    if not lines or not lines[0]:
        raise click.UsageError(f"--password-file: the first line of {password_file} is empty")
    return lines[0]


# -- commands -------------------------------------------------------------------------


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
@click.option(
    "--production",
    is_flag=True,
    help="The production topology: PostgreSQL, Redis, two hub instances behind HAProxy.",
)
def run(production: bool) -> None:
    """Run the hub, the portal and the scheduler until Ctrl-C (seeding the demo on first run)."""
    try:
        kind = ProductionStack if production else stack.Stack
        status = stack.run(_settings(), click.echo, kind)
    except (HubProcessError, HubError, MigrationFailed, GovernanceError, ServerUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(status)


@cli.command("migrate")
@hub_url_option
def migrate_command(hub_url: str | None) -> None:
    """Apply the hub's schema migrations that are not applied yet."""
    with admin_hub(hub_url) as hub:
        applied = hub.applied if hub.applied is not None else _migrate_remote(hub.client)
    click.echo(f"applied: {', '.join(applied) or 'nothing, all up to date'}")


def _database_url(db_url: str | None) -> str:
    """The URL given, else TANDEM_HUB_DB_URL, else the state's: the production topology's
    PostgreSQL where the state holds its cluster, else the local SQLite file."""
    settings = _settings()
    return (
        db_url
        or os.environ.get("TANDEM_HUB_DB_URL")
        or state_database_url(settings)
        or settings.lane_url
    )


@cli.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--db-url", help="The hub's database (default: TANDEM_HUB_DB_URL, else the "
              "state's: make run-production's PostgreSQL, or make run's SQLite file).")  # fmt: skip
def backup_command(dest: Path, db_url: str | None) -> None:
    """Back up the hub's database and Tandem's files into the new folder DEST."""
    try:
        manifest = backups.backup(_database_url(db_url), _settings().state_dir, dest)
    except (backups.BackupError, LaneError) as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"backed up {len(manifest['tables'])} tables ({rows} rows) and "
               f"{len(manifest['files'])} files into {dest}")  # fmt: skip


@cli.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db-url", help="An empty database to restore the hub's into (default: "
              "TANDEM_HUB_DB_URL, else a new SQLite file in TANDEM_STATE_DIR).")  # fmt: skip
def restore_command(src: Path, db_url: str | None) -> None:
    """Restore the backup SRC into an empty database and state folder, and check it."""
    try:
        manifest = backups.restore(src, _database_url(db_url), _settings().state_dir)
    except (backups.BackupError, LaneError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"restored and checked {len(manifest['tables'])} tables and "
        f"{len(manifest['files'])} files from {src} (made {manifest['created_at']})"
    )


def _migrate_remote(admin: HubClient) -> list[str]:
    """Migrate a remote hub, bring the managed pairs' policies up to this release's rules
    and give its service users the tokens from the environment."""
    applied = migrate(admin)
    regenerate_all_pairs(admin)
    for email, variable in SERVICE_TOKENS:
        token = os.environ.get(variable)
        if token:
            set_service_token(admin, email, token)
    return applied


# Each service user and the environment variable its static token comes from.
SERVICE_TOKENS = (
    (SYNC_SERVICE_EMAIL, "TANDEM_SYNC_TOKEN"),
    (PORTAL_AUTH_EMAIL, "TANDEM_PORTAL_AUTH_TOKEN"),
    (RECEIVER_EMAIL, "TANDEM_RECEIVER_TOKEN"),
)


# partners


@cli.group()
def partner() -> None:
    """Partners: suppliers, distributors, retailers and the operator."""


@partner.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(ORG_KINDS))
@click.option("--gln", help="GLN-13, with its check digit.")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 code.")
@click.option("--x12-qualifier", help="X12 interchange ID qualifier (with --x12-id).")
@click.option("--x12-id", help="X12 interchange ID (with --x12-qualifier).")
@click.option("--edifact-id", help="EDIFACT interchange ID.")
@click.option(
    "--gs1-prefix",
    "gs1_prefixes",
    multiple=True,
    help="A supplier's GS1 company prefix (6-12 digits; repeat for several).",
)
@hub_url_option
def partner_add(
    name: str,
    kind: str,
    gln: str | None,
    currency: str,
    x12_qualifier: str | None,
    x12_id: str | None,
    edifact_id: str | None,
    gs1_prefixes: tuple[str, ...],
    hub_url: str | None,
) -> None:
    """Add a partner organization."""
    if bool(x12_qualifier) != bool(x12_id):
        raise click.UsageError("--x12-qualifier and --x12-id go together")
    with admin_hub(hub_url) as hub:
        row = add_partner(
            hub.client,
            name,
            kind,
            gln=gln,
            currency=currency,
            x12_qualifier=x12_qualifier,
            x12_id=x12_id,
            edifact_id=edifact_id,
            gs1_prefixes=gs1_prefixes,
        )
    click.echo(f"added {row['kind']} {row['name']} (id {row['id']})")


@partner.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@hub_url_option
def partner_list(as_json: bool, hub_url: str | None) -> None:
    """List the partner organizations."""
    with admin_hub(hub_url) as hub:
        rows = list_partners(hub.client)
    _show(rows, ("id", "name", "kind", "status", "gln", "currency", "gs1_prefixes"), as_json)


@partner.command("prefixes")
@click.argument("supplier")
@click.argument("prefixes", nargs=-1)
@hub_url_option
def partner_prefixes(supplier: str, prefixes: tuple[str, ...], hub_url: str | None) -> None:
    """Set a supplier's GS1 company prefixes (all of them; none clears them).

    A SKU's GTIN must be under one of them: the hub refuses any other.
    """
    with admin_hub(hub_url) as hub:
        row = set_prefixes(hub.client, supplier, prefixes)
    shown = ", ".join(row["gs1_prefixes"] or []) or "none"
    click.echo(f"{row['name']}: GS1 company prefixes {shown}")


@partner.command("edi")
@click.argument("partner_ref", metavar="PARTNER")
@click.option(
    "--standard", type=click.Choice(sorted(STANDARDS)), help="X12 004010 or EDIFACT D96A."
)
@click.option("--isa-qualifier", help="X12: ISA05/07 interchange ID qualifier, e.g. ZZ or 01.")
@click.option("--isa-id", help="X12: ISA06/08 interchange ID (up to 15 characters).")
@click.option("--gs-code", help="X12: GS02/03 application code (2 to 15 characters).")
@click.option("--unb-qualifier", default="14", show_default=True, help="EDIFACT: UNB 0007.")
@click.option("--unb-id", help="EDIFACT: UNB interchange ID (up to 35 characters).")
@click.option("--transport", type=click.Choice(TRANSPORTS))
@click.option("--address", help="The mailbox folder (absolute path), or the partner's URL.")
@click.option("--as2-id", help="AS2: the partner's AS2 id.")
@click.option(
    "--as2-certificate", type=click.File("r"), help="AS2: the partner's certificate, a PEM file."
)
@click.option(
    "--as2-receipt",
    type=click.Choice(["sync", "async"]),
    help="AS2: whether the partner answers on the connection or posts later.",
)
@click.option(
    "--sends", default="", help=f"Documents it sends, comma-separated: {', '.join(DOCUMENTS)}."
)
@click.option("--expects", default="", help="Documents it expects from us, likewise.")
@click.option("--acks/--no-acks", default=True, show_default=True,
              help="Whether it wants a 997/CONTRL for what it is sent.")  # fmt: skip
@click.option("--clear", is_flag=True, help="Remove the partner's profile.")
@click.option("--show", is_flag=True, help="Print the profile and change nothing.")
@hub_url_option
def partner_edi(partner_ref: str, clear: bool, show: bool, hub_url: str | None,
                **options: Any) -> None:  # fmt: skip
    """Set (or --show, or --clear) a partner's EDI profile: standard, envelope ids,
    transport, and the documents it sends and expects."""
    with admin_hub(hub_url) as hub:
        if show:
            profile = edi_profile(get_partner(hub.client, partner_ref))
            click.echo(json.dumps(profile, indent=2, sort_keys=True) if profile else "no profile")
            return
        entered = None if clear else _profile_entered(options)
        org = set_edi_profile(hub.client, partner_ref, entered)
    click.echo(f"{org['name']}: " + ("no EDI profile" if clear else "EDI profile set"))
    if org.get("inbound_key"):
        click.echo(
            f"It posts its interchanges to the receiver's /edi/{org['id']} with the header\n"
            f"  Authorization: Bearer {org['inbound_key']}\n"
            "(shown once; clearing the profile ends it, and setting one again issues another)"
        )


def _profile_entered(options: dict[str, Any]) -> dict[str, Any]:
    entered = {k: v for k, v in options.items() if v not in (None, "") and k != "acks"}
    if options.get("as2_certificate") is not None:
        entered["as2_certificate"] = options["as2_certificate"].read()
    for name in ("sends", "expects"):
        entered[name] = [d.strip() for d in (options[name] or "").split(",") if d.strip()]
    entered["acknowledgements"] = options["acks"]
    if options.get("standard") != "edifact":
        entered.pop("unb_qualifier", None)
    return entered


@partner.command("deactivate")
@click.argument("partner_ref", metavar="PARTNER")
@hub_url_option
def partner_deactivate(partner_ref: str, hub_url: str | None) -> None:
    """Deactivate a partner and suspend its users; their sessions end at once."""
    with admin_hub(hub_url) as hub:
        row = deactivate_partner(hub.client, partner_ref)
    click.echo(f"deactivated {row['name']}")


@partner.command("reactivate")
@click.argument("partner_ref", metavar="PARTNER")
@hub_url_option
def partner_reactivate(partner_ref: str, hub_url: str | None) -> None:
    """Reactivate a partner and the users its deactivation suspended."""
    with admin_hub(hub_url) as hub:
        row = reactivate_partner(hub.client, partner_ref)
    click.echo(f"reactivated {row['name']} and {row['reactivated_users']} of its users")


@partner.command("pair")
@click.option("--supplier", required=True, help="The supplier's id or name.")
@click.option("--distributor", required=True, help="The distributor's id or name.")
@hub_url_option
def partner_pair(supplier: str, distributor: str, hub_url: str | None) -> None:
    """Make a supplier and a distributor trading partners (a pair)."""
    with admin_hub(hub_url) as hub:
        seller = get_partner(hub.client, supplier)
        buyer = get_partner(hub.client, distributor)
        pair = pair_partners(hub.client, seller["id"], buyer["id"])
    click.echo(f"{seller['name']} x {buyer['name']} trade (pair {pair})")


@partner.command("scorecard")
@click.option("--supplier", required=True, help="The supplier's id or name.")
@click.option("--distributor", required=True, help="The distributor's id or name.")
@click.option(
    "--otif-level",
    type=click.Choice(OTIF_LEVELS),
    default="order",
    show_default=True,
    help="The OTIF the pair's scorecard leads with: per order, unit or case.",
)
@click.option(
    "--otif-basis",
    type=click.Choice(BASES),
    default="promised",
    show_default=True,
    help="On time against the supplier's promise or the requested date.",
)
@click.option(
    "--window-early-days",
    type=click.IntRange(0, 30),
    default=3,
    show_default=True,
    help="The arrival window: the requested date and this many days before it.",
)
@click.option(
    "--fiscal-start-month",
    type=click.IntRange(1, 12),
    default=1,
    show_default=True,
    help="The month the pair's fiscal year starts (quarters follow it).",
)
@hub_url_option
def partner_scorecard(
    supplier: str,
    distributor: str,
    otif_level: str,
    otif_basis: str,
    window_early_days: int,
    fiscal_start_month: int,
    hub_url: str | None,
) -> None:
    """Set how a pair's scorecard is computed (the next scorecard run applies it)."""
    settings = {
        "otif_level": otif_level,
        "otif_basis": otif_basis,
        "window_early_days": window_early_days,
        "fiscal_start_month": fiscal_start_month,
    }
    _set_pair_settings(hub_url, supplier, distributor, "scorecard", set_scorecard_settings,
                       settings)  # fmt: skip


@partner.command("planning")
@click.option("--supplier", required=True, help="The supplier's id or name.")
@click.option("--distributor", required=True, help="The distributor's id or name.")
@click.option(
    "--service-level",
    default="0.95",
    show_default=True,
    help="The cycle service level safety stock is computed for, a fraction (0.95 = 95 %).",
)
@click.option(
    "--review-weeks",
    default="1",
    show_default=True,
    help="Weeks between the distributor's orders (the base stock covers lead time + this).",
)
@click.option(
    "--tolerance-pct",
    default="20",
    show_default=True,
    help="How far (% of the forecast) a commitment may differ before it is highlighted.",
)
@hub_url_option
def partner_planning(
    supplier: str,
    distributor: str,
    service_level: str,
    review_weeks: str,
    tolerance_pct: str,
    hub_url: str | None,
) -> None:
    """Set a pair's planning policy (suggested orders and the forecast comparison use it)."""
    settings = {
        "service_level": service_level,
        "review_weeks": review_weeks,
        "tolerance_pct": tolerance_pct,
    }
    _set_pair_settings(hub_url, supplier, distributor, "planning", set_planning_settings,
                       settings)  # fmt: skip


@partner.command("exceptions")
@click.option("--supplier", required=True, help="The supplier's id or name.")
@click.option("--distributor", required=True, help="The distributor's id or name.")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON list of criteria: name, metric, comparison, threshold, upper, scope, "
    "owner_side, response_hours.",
)
@hub_url_option
def partner_exceptions(supplier: str, distributor: str, path: Path, hub_url: str | None) -> None:
    """Record the CPFR exception criteria a pair agreed (replacing its criteria by name)."""
    criteria = _json_list(path)
    with admin_hub(hub_url) as hub:
        seller = get_partner(hub.client, supplier)
        buyer = get_partner(hub.client, distributor)
        pair = set_criteria(hub.client, seller["id"], buyer["id"], criteria)
    click.echo(
        f"{seller['name']} x {buyer['name']} (pair {pair}): {len(criteria)} exception "
        f"criteria: {', '.join(str(c['name']) for c in criteria)}"
    )


@partner.command("escalation")
@click.option("--supplier", required=True, help="The supplier's id or name.")
@click.option("--distributor", required=True, help="The distributor's id or name.")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A JSON list of levels: [{"after_hours": 0, "contacts": ["a@example.com"]}, ...].',
)
@hub_url_option
def partner_escalation(supplier: str, distributor: str, path: Path, hub_url: str | None) -> None:
    """Record the escalation levels and contacts a pair agreed."""
    levels = _json_list(path)
    with admin_hub(hub_url) as hub:
        seller = get_partner(hub.client, supplier)
        buyer = get_partner(hub.client, distributor)
        pair = set_escalation(hub.client, seller["id"], buyer["id"], levels)
    click.echo(f"{seller['name']} x {buyer['name']} (pair {pair}): {len(levels)} escalation levels")


def _json_list(path: Path) -> list[dict[str, Any]]:
    """A file's JSON list of objects, or a clear error naming the file."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path}: not JSON: {exc}") from None
    if not isinstance(found, list) or not all(isinstance(c, dict) for c in found):
        raise click.ClickException(f"{path}: a JSON list of objects")
    return found


def _set_pair_settings(
    hub_url: str | None,
    supplier: str,
    distributor: str,
    what: str,
    setter: Callable[[HubClient, int, int, Mapping[str, Any]], int],
    settings: Mapping[str, Any],
) -> None:
    """Set one of a pair's settings as the admin, and say what was set."""
    with admin_hub(hub_url) as hub:
        seller = get_partner(hub.client, supplier)
        buyer = get_partner(hub.client, distributor)
        pair = setter(hub.client, seller["id"], buyer["id"], settings)
    click.echo(
        f"{seller['name']} x {buyer['name']} (pair {pair}): {what} "
        + ", ".join(f"{k}={v}" for k, v in settings.items())
    )


# users


@cli.group()
def user() -> None:
    """Partner users: add, list, deactivate, reactivate, assign account managers to pairs."""


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--org", "organization", required=True, help="The organization's id or name.")
@click.option("--first-name")
@click.option("--last-name")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from the file's first line instead of prompting.",
)
@hub_url_option
def user_add(
    email: str,
    role: str,
    organization: str,
    first_name: str | None,
    last_name: str | None,
    password_file: Path | None,
    hub_url: str | None,
) -> None:
    """Add a user to an organization. The password is prompted for, or read from a file."""
    password = _read_password(password_file)
    with admin_hub(hub_url) as hub:
        row = add_user(
            hub.client,
            email,
            password,
            role,
            organization,
            first_name=first_name,
            last_name=last_name,
        )
    click.echo(f"added {row['tandem_role']} {row['email']} (id {row['id']})")


@user.command("list")
@click.option("--org", "organization", help="Only this organization's users (id or name).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@hub_url_option
def user_list(organization: str | None, as_json: bool, hub_url: str | None) -> None:
    """List the partner users."""
    with admin_hub(hub_url) as hub:
        rows = list_users(hub.client, organization)
    _show(rows, ("id", "email", "tandem_role", "organization", "status"), as_json)


@user.command("deactivate")
@click.argument("user_ref", metavar="EMAIL_OR_ID")
@hub_url_option
def user_deactivate(user_ref: str, hub_url: str | None) -> None:
    """Suspend a user; their sessions end at once."""
    with admin_hub(hub_url) as hub:
        row = deactivate_user(hub.client, user_ref)
    click.echo(f"suspended {row['email']}")


@user.command("reactivate")
@click.argument("user_ref", metavar="EMAIL_OR_ID")
@hub_url_option
def user_reactivate(user_ref: str, hub_url: str | None) -> None:
    """Make a suspended user active again; they sign in with their own password."""
    with admin_hub(hub_url) as hub:
        row = reactivate_user(hub.client, user_ref)
    click.echo(f"reactivated {row['email']}")


@user.command("assign")
@click.argument("email")
@click.option("--supplier", required=True, help="The supplier's id or name.")
@click.option("--distributor", required=True, help="The distributor's id or name.")
@hub_url_option
def user_assign(email: str, supplier: str, distributor: str, hub_url: str | None) -> None:
    """Assign an account manager to a supplier-distributor pair."""
    with admin_hub(hub_url) as hub:
        member = find_user(hub.client, email)
        seller = get_partner(hub.client, supplier)
        buyer = get_partner(hub.client, distributor)
        pair = assign_manager(hub.client, member["id"], seller["id"], buyer["id"])
    click.echo(f"{member['email']} manages {seller['name']} x {buyer['name']} (pair {pair})")


@user.command("unassign")
@click.argument("email")
@click.option("--supplier", required=True, help="The supplier's id or name.")
@click.option("--distributor", required=True, help="The distributor's id or name.")
@hub_url_option
def user_unassign(email: str, supplier: str, distributor: str, hub_url: str | None) -> None:
    """Take an account manager off a pair; its records and data close at once."""
    with admin_hub(hub_url) as hub:
        member = find_user(hub.client, email)
        seller = get_partner(hub.client, supplier)
        buyer = get_partner(hub.client, distributor)
        pair = unassign_manager(hub.client, member["id"], seller["id"], buyer["id"])
    click.echo(
        f"{member['email']} no longer manages {seller['name']} x {buyer['name']} (pair {pair})"
    )


# sharing agreements


@cli.group()
def share() -> None:
    """Data-sharing agreements: a distributor's data kinds shown to a supplier."""


@share.command("grant")
@click.option("--grantor", required=True, help="The data's owner (distributor), id or name.")
@click.option("--grantee", required=True, help="The supplier who may see it, id or name.")
@click.option("--kinds", required=True, type=CommaList(), help="e.g. pos,inventory")
@click.option("--regions", type=CommaList(), default="", help="Only these regions: a,b")
@click.option("--locations", type=CommaList(int), default="", help="Only these location ids: 1,2")
@click.option("--granularity", type=click.Choice(GRANULARITIES), default="store_day")
@click.option("--from", "valid_from", required=True, type=DATE, help="First day, YYYY-MM-DD.")
@click.option("--to", "valid_to", type=DATE, help="Last day, YYYY-MM-DD (open-ended without).")
@click.option("--purpose")
@hub_url_option
def share_grant(
    grantor: str,
    grantee: str,
    kinds: list[str],
    regions: list[str],
    locations: list[int],
    granularity: str,
    valid_from: dt.datetime,
    valid_to: dt.datetime | None,
    purpose: str | None,
    hub_url: str | None,
) -> None:
    """Grant an agreement; the grantee's access follows on its next request."""
    with admin_hub(hub_url) as hub:
        row = grant(
            hub.client,
            grantor,
            grantee,
            kinds,
            valid_from=valid_from.date(),
            valid_to=_day(valid_to),
            granularity=granularity,
            regions=regions,
            locations=locations,
            purpose=purpose,
        )
    click.echo(
        f"granted agreement {row['id']}: {', '.join(row['kinds'])} of {grantor} to {grantee}, "
        f"from {row['valid_from']}" + (f" to {row['valid_to']}" if row["valid_to"] else "")
    )


@share.command("revoke")
@click.argument("agreement_id", metavar="ID", type=int)
@hub_url_option
def share_revoke(agreement_id: int, hub_url: str | None) -> None:
    """Revoke an agreement; its rows disappear from the grantee's next request."""
    with admin_hub(hub_url) as hub:
        revoke(hub.client, agreement_id)
    click.echo(f"revoked agreement {agreement_id}")


@share.command("list")
@click.option("--org", "organization", help="Only agreements this organization is party to.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@hub_url_option
def share_list(organization: str | None, as_json: bool, hub_url: str | None) -> None:
    """List the sharing agreements."""
    with admin_hub(hub_url) as hub:
        rows = list_agreements(hub.client, organization)
    columns = ("id", "grantor", "grantee", "kinds", "regions", "locations", "granularity")
    _show(rows, (*columns, "valid_from", "valid_to", "status", "purpose"), as_json)


# the scheduler


@cli.group("sync")
def sync_group() -> None:
    """The scheduler's jobs, their runs, and "run now"."""


@sync_group.command("jobs")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@hub_url_option
def sync_jobs(as_json: bool, hub_url: str | None) -> None:
    """The jobs the scheduler declares, with their schedule and last run."""
    with admin_hub(hub_url) as hub:
        rows = [
            {**job, "last_run": (job["last_run"] or {}).get("status", "never")}
            for job in scheduler_jobs(hub.client)
        ]
    _show(rows, ("id", "schedule", "last_run", "requested", "description"), as_json)


@sync_group.command("run")
@click.argument("job_id", metavar="JOB")
@hub_url_option
def sync_run(job_id: str, hub_url: str | None) -> None:
    """Ask the scheduler to run JOB now (it takes the request within seconds)."""
    with admin_hub(hub_url) as hub:
        request_run(hub.client, job_id, via="cli")
    click.echo(f"asked the scheduler to run {job_id} now")


@sync_group.command("runs")
@click.option("--job", "job_id", help="Only this job's runs.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@hub_url_option
def sync_runs(job_id: str | None, limit: int, as_json: bool, hub_url: str | None) -> None:
    """The latest runs, newest first, with their counts."""
    with admin_hub(hub_url) as hub:
        rows = scheduler_runs(hub.client, job_id, limit)
    _show(rows, ("job_id", "started_at", "finished_at", "status", "counts", "error"), as_json)


# the demo


def _lane_url(hub: AdminHub) -> str:
    if not hub.db_url:
        raise LaneError(
            "bulk loading needs the hub's database: set TANDEM_HUB_DB_URL "
            "(sqlite:///path/to/hub.db or postgresql://user:password@host/db)"
        )
    return hub.db_url


@cli.group("import")
def import_group() -> None:
    """Import a distributor's POS, inventory or forecast file (CSV, XLSX, X12, EDIFACT)."""


def _import_command(kind: str) -> Callable[..., None]:
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--distributor", required=True, help="The distributor's id or name.")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from content.")
    @click.option(
        "--column",
        "columns",
        multiple=True,
        metavar="FIELD=HEADER",
        help=f"Which header holds a field ({', '.join(FIELDS[kind])}); saved for next time.",
    )
    @click.option("--date-format", help="strptime format of the dates, e.g. %d/%m/%Y; saved.")
    @click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write rejected rows (default: FILE.rejects.csv).")  # fmt: skip
    @hub_url_option
    def command(
        file: Path,
        distributor: str,
        fmt: str | None,
        columns: tuple[str, ...],
        date_format: str | None,
        rejects: Path | None,
        hub_url: str | None,
    ) -> None:
        with admin_hub(hub_url) as hub:
            org = get_partner(hub.client, distributor)
            if org["kind"] != "distributor":
                raise click.ClickException(f"{org['name']} is a {org['kind']}, not a distributor")
            mapping = load_mapping(hub.client, int(org["id"]), kind)
            if columns or date_format:
                pairs = dict(_field_header(c) for c in columns)
                mapping = dataclasses.replace(  # the saved settings stay as they are
                    mapping,
                    columns={**mapping.columns, **pairs},
                    date_format=date_format or mapping.date_format,
                )
                try:
                    save_mapping(hub.client, int(org["id"]), kind, mapping)
                except FileError as exc:
                    raise click.ClickException(str(exc)) from None
            record = hub.client.create_item(
                "imports",
                {"kind": kind, "format": fmt or "csv", "filename": file.name, "source": "cli",
                 "distributor": org["id"]},
                fields=["id"],
            )  # fmt: skip
            rejects = rejects or file.with_name(f"{file.name}.rejects.csv")
            with tqdm(unit=" rows", unit_scale=True, desc=f"{kind} {file.name}") as bar:

                def shown(state: Progress) -> None:
                    bar.update(state.rows_read - bar.n)
                    bar.set_postfix(rejected=state.rows_rejected, refresh=False)

                try:
                    with open_lane(_lane_url(hub)) as lane:
                        result = run_import(
                            lane,
                            file,
                            distributor=int(org["id"]),
                            kind=kind,
                            fmt=fmt,
                            mapping=mapping,
                            import_id=int(record["id"]),
                            rejects_path=rejects,
                            progress=shown,
                        )
                except FileError as exc:
                    raise click.ClickException(f"nothing imported: {exc}") from None
        click.echo(
            f"import {result.import_id}: {result.rows_read} rows read in {result.seconds:.1f}s "
            f"({result.rows_per_s}/s): {result.new} new, {result.changed} changed, "
            f"{result.unchanged} unchanged, {result.rows_rejected} rejected"
            + (f" (see {result.rejects})" if result.rejects else "")
            + (f"; data {result.data_from} to {result.data_through}" if result.data_from else "")
        )
        if result.rows_read == result.rows_rejected:
            why = (
                f"every one of its {result.rows_read} rows was rejected (see {result.rejects})"
                if result.rows_read
                else "the file holds no rows"
            )
            raise click.ClickException(f"nothing landed: {why}")

    command.__doc__ = f"Import a {kind} FILE for a distributor (the bulk lane; see README)."
    return command


def _field_header(text: str) -> tuple[str, str]:
    name, sep, header = text.partition("=")
    if not sep or not name.strip() or not header.strip():
        raise click.BadParameter(f"{text!r}: use FIELD=HEADER", param_hint="--column")
    return name.strip(), header.strip()


import_group.command("pos")(_import_command("pos"))
import_group.command("inventory")(_import_command("inventory"))
import_group.command("forecasts")(_import_command("forecasts"))


@cli.group("demo")
def demo_group() -> None:
    """The demo: deterministic partners, logins and a year of data."""


@demo_group.command("seed")
@click.option("--as-of", type=DATE, help="The demo's today (default: today, UTC).")
@click.option("--days", type=click.IntRange(1, 3660), default=365, show_default=True)
@hub_url_option
def demo_seed(as_of: dt.datetime | None, days: int, hub_url: str | None) -> None:
    """Seed the demo into the hub (does nothing if it is there already)."""
    day = _day(as_of) or clock.today()
    with admin_hub(hub_url) as hub:
        result = seed(hub.client, hub.db_url, day, spec=Spec(days=days), echo=click.echo)
    if not result.seeded:
        click.echo(f"the demo is already seeded (as of {result.as_of}); nothing to do")
        return
    click.echo(
        f"seeded the demo as of {result.as_of} in {result.seconds:.1f}s: "
        + ", ".join(f"{n} {name}" for name, n in result.counts.items())
    )


@demo_group.command("accounts")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def demo_accounts(as_json: bool) -> None:
    """Print the demo logins (they are public: this is demo data)."""
    _show(logins(), ("email", "password", "role", "organization"), as_json)


# -- reviews ---------------------------------------------------------------------------


@cli.group("review")
def review_group() -> None:
    """Quarterly business reviews, made as an account manager makes them in the portal."""


@contextlib.contextmanager
def _signed_in(hub_url: str | None, email: str, password: str) -> Iterator[HubClient]:
    """The hub as this user (their own login, so their rules apply): at ``hub_url``, or
    the state folder's hub, started for the command if it is not running."""
    try:
        if hub_url:
            client = HubClient.login(hub_url, email, password)
            try:
                yield client
            finally:
                _logout(client)
            return
        with _local_admin(_settings()) as local:
            client = HubClient.login(local.client.base_url, email, password)
            try:
                yield client
            finally:
                _logout(client)
    except (HubProcessError, HubError) as exc:
        raise click.ClickException(f"{exc.__class__.__name__}: {exc}") from None


@review_group.command("pack")
@click.option("--supplier", required=True, help="The pair's supplier, by name or id.")
@click.option("--distributor", required=True, help="The pair's distributor, by name or id.")
@click.option("--quarter", help="e.g. 2026-Q4 (default: the last whole quarter).")
@click.option("--email", required=True, help="Your login: the pair's manager or a party to it.")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from the file's first line instead of prompting.",
)
@click.option(
    "--format", "formats", multiple=True, type=click.Choice(PACK_FORMATS),
    help="Which files (default: all three).",
)  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder to write the pack into.",
)
@click.option(
    "--hub-url",
    envvar="TANDEM_HUB_URL",
    help="Work on this hub, signed in as --email. Without it: the state folder's hub.",
)
def review_pack(
    supplier: str,
    distributor: str,
    quarter: str | None,
    email: str,
    password_file: Path | None,
    formats: tuple[str, ...],
    out: Path,
    hub_url: str | None,
) -> None:
    """Write a pair's quarterly business review pack: workbook, printable page, PDF.

    It is made as you read it in the portal: a promotion's lift from the POS you may read.
    """
    if password_file is None:
        password = str(click.prompt("Password", hide_input=True))
    else:
        password = _read_password(password_file)
    with _signed_in(hub_url, email, password) as client:
        user = identify(client)
        if user is None or user.role not in PACK_ROLES:
            raise click.ClickException(f"{email} is not an active partner or account manager")
        acc = DataAccess(user, client, via="cli")
        pair = _managed_pair(acc, supplier, distributor)
        wanted = formats or PACK_FORMATS
        try:
            built = reviews.review_pack(acc, pair, quarter, clock.now(), user.display_name,
                                        "+".join(wanted))  # fmt: skip
        except DataError as exc:
            raise click.ClickException(exc.message) from None
        out.mkdir(parents=True, exist_ok=True)
        page = packs.html(built, printing=True) if {"html", "pdf"} & set(wanted) else ""
        files = {
            "xlsx": lambda: packs.workbook(built),
            "html": lambda: page.encode(),
            "pdf": lambda: packs.pdf(page),
        }
        for fmt in wanted:
            path = out / packs.filename(built, fmt)
            path.write_bytes(files[fmt]())
            click.echo(f"wrote {path}")


def _managed_pair(acc: DataAccess, supplier: str, distributor: str) -> int:
    """The pair of these two (each by name or id) among the user's pairs (managed, or
    their organization's)."""
    names = insights.org_names(acc)

    def matches(org: int, ref: str) -> bool:
        return ref == str(org) or ref.casefold() == names.get(org, "").casefold()

    for pair in acc.scope.pairs.values():
        if matches(pair.supplier, supplier) and matches(pair.distributor, distributor):
            return pair.id
    raise click.ClickException(f"you are party to no pair of {supplier} and {distributor}")


def main() -> None:
    cli()
