"""The hub's schema as numbered, idempotent migrations, applied through the REST API.

A migration is a file ``NNNN_name.py`` in this folder with a docstring saying what it
changes and an ``upgrade(hub)`` made only of "ensure" steps (:mod:`migrations.schema`).
Which ones are applied is recorded in the hub's ``tandem_migrations`` collection, one
row each, written right after the migration succeeds. A failing migration stops the run
with its own name and the hub's message; the ones before it stay recorded.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from directus import HubClient, HubError
from domain import clock
from migrations.schema import ensure_collection, field, string_pk

log = logging.getLogger(__name__)

LEDGER = "tandem_migrations"
MIGRATIONS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+$")


@dataclass(frozen=True)
class Migration:
    name: str
    description: str
    upgrade: Callable[[HubClient], None]


class MigrationFailed(Exception):
    """A migration's upgrade failed; ``name`` is the migration, ``hub_message`` the hub's words."""

    def __init__(self, name: str, hub_message: str) -> None:
        super().__init__(f"migration {name} failed: {hub_message}")
        self.name = name
        self.hub_message = hub_message


def discover(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every ``NNNN_name.py`` in the folder, in number order; duplicate numbers are refused."""
    found: list[Migration] = []
    numbers: dict[str, str] = {}
    for path in sorted(folder.glob("*.py")):
        match = _NAME.match(path.stem)
        if not match:
            continue
        if match.group(1) in numbers:
            raise ValueError(f"migrations {numbers[match.group(1)]} and {path.stem} share a number")
        numbers[match.group(1)] = path.stem
        spec = importlib.util.spec_from_file_location(f"_tandem_migration_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ValueError(f"migration {path.stem} cannot be loaded")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        doc = (module.__doc__ or "").strip()
        if not doc or not callable(getattr(module, "upgrade", None)):
            raise ValueError(f"migration {path.stem} needs a docstring and an upgrade(hub)")
        found.append(Migration(path.stem, doc.splitlines()[0], module.upgrade))
    return found


def ensure_ledger(hub: HubClient) -> None:
    ensure_collection(
        hub,
        LEDGER,
        [
            string_pk("name"),
            field("description", "string"),
            field("applied_at", "timestamp"),
        ],
        meta={"hidden": True, "note": "Tandem's applied schema migrations", "accountability": None},
    )


def applied(hub: HubClient) -> set[str]:
    return {row["name"] for row in hub.read_items(LEDGER, fields=["name"], limit=-1)}


def migrate(hub: HubClient, migrations: Sequence[Migration] | None = None) -> list[str]:
    """Apply the migrations not yet recorded, in order. Returns the names applied now.

    Each says what it does (its docstring's first line, logged and kept in the ledger).
    A hub with a migration this release does not know (a newer Tandem's) is refused
    before anything is applied.
    """
    migrations = discover() if migrations is None else migrations
    ensure_ledger(hub)
    done = applied(hub)
    unknown = sorted(done - {m.name for m in migrations})
    if unknown:
        raise MigrationFailed(
            unknown[-1],
            f"the hub's schema is newer than this release of Tandem: it has {', '.join(unknown)}, "
            "which this release does not know. Run the release that made it, or a newer one",
        )
    newly: list[str] = []
    for migration in migrations:
        if migration.name in done:
            continue
        log.info("applying migration %s: %s", migration.name, migration.description)
        try:
            migration.upgrade(hub)
        except HubError as exc:
            raise MigrationFailed(
                migration.name, f"{exc.code or exc.status}: {exc.message}"
            ) from exc
        hub.create_item(
            LEDGER,
            {
                "name": migration.name,
                "description": migration.description,
                "applied_at": clock.now().isoformat(timespec="seconds"),
            },
        )
        newly.append(migration.name)
    return newly
