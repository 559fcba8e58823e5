"""Migrations: applied once, recorded in the hub, idempotent, and failing loudly by name."""

from __future__ import annotations

import textwrap

import pytest

from migrations import LEDGER, MigrationFailed, applied, discover, migrate


def _snapshot(admin) -> dict:
    """The schema the migrations manage (the ledger is the runner's own)."""
    snapshot = admin.get("/schema/snapshot")
    return {
        key: [row for row in snapshot[key] if row["collection"] != LEDGER]
        for key in ("collections", "fields", "relations")
    }


def _access(admin) -> list:
    rows = admin.get("/permissions", limit=-1, sort=["id"])
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_migrations_apply_once_and_a_second_run_changes_nothing(start_hub):
    fresh = start_hub()
    admin = fresh.admin()
    first = migrate(admin)
    assert first == [m.name for m in discover()]
    assert applied(admin) == set(first)
    schema, access = _snapshot(admin), _access(admin)
    ledger = admin.read_items(LEDGER, limit=-1, sort=["name"])
    users = admin.get("/users", fields=["id", "email", "role"], limit=-1, sort=["email"])

    assert migrate(admin) == []
    assert _snapshot(admin) == schema
    assert _access(admin) == access
    assert admin.read_items(LEDGER, limit=-1, sort=["name"]) == ledger
    assert admin.get("/users", fields=["id", "email", "role"], limit=-1, sort=["email"]) == users


def test_ensure_steps_are_idempotent_even_when_not_yet_recorded(start_hub):
    """A crash between a migration's work and its ledger row must not break the re-run."""
    fresh = start_hub()
    admin = fresh.admin()
    for migration in discover():
        migration.upgrade(admin)
    schema = _snapshot(admin)
    assert migrate(admin) == [m.name for m in discover()]
    assert _snapshot(admin) == schema


def _write(folder, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))


GOOD = '''
    """Create the collection probe_things."""
    from migrations.schema import ensure_collection, field, string_pk

    def upgrade(hub):
        ensure_collection(hub, "probe_things", [string_pk(), field("label", "string")])
'''

BROKEN = '''
    """Add a field of a type Directus does not have."""
    from migrations.schema import ensure_field, field

    def upgrade(hub):
        ensure_field(hub, "probe_things", field("weight", "no-such-type"))
'''

FIXED = '''
    """Add a weight to probe_things."""
    from migrations.schema import ensure_field, field

    def upgrade(hub):
        ensure_field(hub, "probe_things", field("weight", "integer"))
'''


def test_a_failing_migration_stops_with_its_name_and_the_hubs_message(start_hub, tmp_path):
    fresh = start_hub()
    admin = fresh.admin()
    _write(tmp_path, "0001_probe_things", GOOD)
    _write(tmp_path, "0002_probe_weight", BROKEN)
    with pytest.raises(MigrationFailed) as caught:
        migrate(admin, discover(tmp_path))
    assert caught.value.name == "0002_probe_weight"
    assert "0002_probe_weight" in str(caught.value)
    assert caught.value.hub_message.startswith("INVALID_PAYLOAD")
    assert applied(admin) == {"0001_probe_things"}

    _write(tmp_path, "0002_probe_weight", FIXED)
    assert migrate(admin, discover(tmp_path)) == ["0002_probe_weight"]
    assert {f["field"] for f in admin.get("/fields/probe_things")} >= {"id", "label", "weight"}


def test_discover_refuses_duplicate_numbers_and_missing_docstrings(tmp_path):
    _write(tmp_path, "0001_a", GOOD)
    _write(tmp_path, "0001_b", GOOD)
    with pytest.raises(ValueError, match="share a number"):
        discover(tmp_path)
    (tmp_path / "0001_b.py").unlink()
    _write(tmp_path, "0002_nodoc", "def upgrade(hub):\n    pass\n")
    with pytest.raises(ValueError, match="docstring"):
        discover(tmp_path)


def test_the_project_migrations_are_numbered_in_order():
    names = [m.name for m in discover()]
    assert names == sorted(names)
    assert names[0].startswith("0001_")


def test_a_hub_with_a_newer_schema_than_this_release_knows_is_refused(start_hub, tmp_path):
    fresh = start_hub()
    admin = fresh.admin()
    _write(tmp_path, "0001_probe_things", GOOD)
    _write(tmp_path, "0002_probe_weight", FIXED)
    assert migrate(admin, discover(tmp_path)) == ["0001_probe_things", "0002_probe_weight"]
    (tmp_path / "0002_probe_weight.py").unlink()  # an older release: it knows only 0001
    _write(tmp_path, "0003_probe_more", GOOD)
    with pytest.raises(MigrationFailed, match=r"newer than this release.*0002_probe_weight"):
        migrate(admin, discover(tmp_path))
    assert applied(admin) == {"0001_probe_things", "0002_probe_weight"}


def test_every_migration_says_what_it_does():
    for migration in discover():
        assert len(migration.description) > 10, migration.name
