"""``tandem backup`` and ``tandem restore``: the hub's database and Tandem's files, as one
folder, restored elsewhere with every table proved equal.

A backup folder holds:

- ``hub.db`` (SQLite, through SQLite's online backup API: consistent while the hub runs)
  or ``hub.pgdump`` (PostgreSQL, ``pg_dump --format=custom`` of the snapshot the
  fingerprint was taken in, so the two describe the same data);
- ``files/``: the state folder's secrets (the hub's signing secret and the service
  tokens: sessions and personal API tokens stay valid), uploads waiting and rejects files
  (``spool``), drop folders, EDI mailboxes, the AS2 identity, and files stored in the hub;
- ``manifest.json``: when, from which kind of database, the migrations applied, and each
  table's row count and checksum, and each file's SHA-256.

A restore goes only into an empty place (no database tables, no state files), and
compares every table's count and checksum, and every file's digest, with the manifest;
any difference fails it, naming the tables or files. A SQLite database is checked before
it takes its place; files that fail their check are removed again.

A table's checksum is the sum, modulo 2**256, of the SHA-256 of each row's values in
column order (type-tagged and length-prefixed; PostgreSQL's read in UTC and ISO styles):
independent of row order, so no table is sorted, and memory stays bounded.

A backup folder is its owner's only (0700): it holds password hashes, service tokens and
the state's secrets. Under compose, Tandem's files live in volumes and its secrets in the
environment: ``tandem backup`` there takes the database, and the volumes are backed up
with them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directus.bulk import parse_target
from domain import clock
from tandem.servers import postgres_bin_dir

MANIFEST = "manifest.json"
FORMAT = 1
#: What of the state folder a backup keeps (the hub's database is taken separately).
STATE_FILES = ("secrets.json",)
STATE_FOLDERS = ("spool", "drop", "edi", "as2", "hub/uploads", "hub-uploads")
LEDGER = "tandem_migrations"
_MODULUS = 2**256


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why."""


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


# -- fingerprints ---------------------------------------------------------------------------


def _row_digest(values: tuple[Any, ...]) -> int:
    """A row's SHA-256: each value type-tagged and length-prefixed, so no two rows meet."""
    digest = hashlib.sha256()
    for value in values:
        text = "" if value is None else _text(value)
        digest.update(f"{type(value).__name__}:{len(text)}:".encode())
        digest.update(text.encode())
    return int.from_bytes(digest.digest(), "big")


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)


def _sum(rows: Iterator[tuple[Any, ...]]) -> TableSum:
    count, total = 0, 0
    for row in rows:
        count += 1
        total = (total + _row_digest(row)) % _MODULUS
    return TableSum(count, f"{total:064x}")


def _read_only(path: Path | str) -> sqlite3.Connection:
    """A read-only connection to a SQLite file (``//x`` from a URL's path is ``/x``)."""
    absolute = Path("/" + str(Path(path).absolute()).lstrip("/"))
    return sqlite3.connect(f"{absolute.as_uri()}?mode=ro", uri=True)


def sqlite_fingerprint(path: Path) -> dict[str, TableSum]:
    """Every table of a SQLite database: its row count and checksum."""
    conn = _read_only(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )]  # fmt: skip
        return {name: _sum(conn.execute(f'SELECT * FROM "{name}"')) for name in names}  # noqa: S608 - names from sqlite_master
    finally:
        conn.close()


def _pg_session(conn: Any) -> None:
    """Values read as text the same way wherever and whoever reads them."""
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    conn.execute("SET IntervalStyle = 'iso_8601'")


def _pg_fingerprint(conn: Any) -> dict[str, TableSum]:
    names = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    )]  # fmt: skip
    sums = {}
    for name in names:
        with conn.cursor(name=f"fp_{len(sums)}") as cursor:  # server-side: bounded memory
            cursor.itersize = 5000
            cursor.execute(f'SELECT * FROM public."{name}"')  # noqa: S608 - names from the catalog
            sums[name] = _sum(iter(cursor))
    return sums


def pg_fingerprint(url: str) -> dict[str, TableSum]:
    """Every table of a PostgreSQL database's public schema: its row count and checksum."""
    import psycopg

    with psycopg.connect(url) as conn:
        _pg_session(conn)
        return _pg_fingerprint(conn)


def fingerprint(url: str) -> dict[str, TableSum]:
    dialect, where = parse_target(url)
    return sqlite_fingerprint(Path(where)) if dialect == "sqlite" else pg_fingerprint(where)


def _migrations(conn: Any) -> list[str]:
    """The migrations the database's ledger records (none if it has no ledger)."""
    found = conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_name = %s" if _is_pg(conn)
        else "SELECT 1 FROM sqlite_master WHERE name = ?", (LEDGER,)
    ).fetchone()  # fmt: skip
    if not found:
        return []
    return [r[0] for r in conn.execute(f"SELECT name FROM {LEDGER} ORDER BY name")]  # noqa: S608


def _is_pg(conn: Any) -> bool:
    return not isinstance(conn, sqlite3.Connection)


# -- files ------------------------------------------------------------------------------


def _state_files(state_dir: Path) -> Iterator[Path]:
    """The state's files a backup keeps, relative to the state folder."""
    for name in STATE_FILES:
        if (state_dir / name).is_file():
            yield Path(name)
    for folder in STATE_FOLDERS:
        root = state_dir / folder
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    yield path.relative_to(state_dir)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- backup -----------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    bin_dir = postgres_bin_dir()
    found = bin_dir / name if bin_dir else shutil.which(name)
    if not found or not Path(found).is_file():
        raise BackupError(f"{name} is not installed (Debian's postgresql-client)")
    return str(found)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()[-2000:]}")


def backup(url: str, state_dir: Path, dest: Path) -> dict[str, Any]:
    """Back the hub's database (``url``, as the bulk lane names it) and the state's files
    up into the new folder ``dest``. Returns the manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: a backup goes into a new folder")
    # It holds password hashes, service tokens and the state's secrets: its owner's only.
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)
    dialect, where = parse_target(url)
    if dialect == "sqlite":
        if not Path(where).is_file():
            raise BackupError(f"no hub database at {where}")
        source = _read_only(where)
        copy = sqlite3.connect(dest / "hub.db")
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
        tables = sqlite_fingerprint(dest / "hub.db")
        with contextlib.closing(sqlite3.connect(dest / "hub.db")) as conn:
            migrations = _migrations(conn)
        (dest / "hub.db").chmod(0o600)
    else:
        tables, migrations = _pg_backup(where, dest / "hub.pgdump")
        (dest / "hub.pgdump").chmod(0o600)
    files = {}
    for relative in _state_files(state_dir):
        target = dest / "files" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(state_dir / relative, target)
        files[str(relative)] = _digest(target)
    manifest = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(timespec="seconds"),
        "dialect": dialect,
        "migrations": migrations,
        "tables": {name: {"rows": s.rows, "checksum": s.checksum} for name, s in tables.items()},
        "files": files,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _pg_backup(url: str, dump: Path) -> tuple[dict[str, TableSum], list[str]]:
    """Fingerprint and dump one snapshot: pg_dump reads the snapshot this transaction exports."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _pg_session(conn)
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={url}"],
             "pg_dump")  # fmt: skip
        return _pg_fingerprint(conn), _migrations(conn)


# -- restore ----------------------------------------------------------------------------


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a Tandem backup ({MANIFEST}: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src} is a backup of format {manifest.get('format')}, not {FORMAT}")
    return manifest


def restore(src: Path, url: str, state_dir: Path) -> dict[str, Any]:
    """Restore the backup ``src`` into the empty database ``url`` and state folder, then
    prove every table and file equal to the manifest. Returns the manifest."""
    manifest = read_manifest(src)
    dialect, where = parse_target(url)
    if dialect != manifest["dialect"]:
        raise BackupError(
            f"the backup is of a {manifest['dialect']} hub; {url!r} is {dialect}: restore it "
            "into the same kind of database"
        )
    clashes = [str(p) for p in _state_files(state_dir)] if state_dir.exists() else []
    if clashes:
        raise BackupError(f"{state_dir} already holds Tandem's files ({clashes[0]}, …)")
    if dialect == "sqlite":
        target = Path(where)
        if target.exists():
            raise BackupError(f"{target} exists: a restore goes into a new database")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        source = _read_only(src / "hub.db")
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=WAL")
        finally:
            source.close()
            copy.close()
        try:
            verify(manifest, sqlite_fingerprint(partial))
        except BackupError:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
    else:
        if pg_fingerprint(where):
            raise BackupError("the target database has tables: a restore goes into an empty one")
        _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", f"--dbname={where}", str(src / "hub.pgdump")],
             "pg_restore")  # fmt: skip
        verify(manifest, pg_fingerprint(where))
    copied: list[Path] = []
    try:
        for relative, digest in manifest["files"].items():
            target = state_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / "files" / relative, target)
            copied.append(target)
            if relative == "secrets.json":
                target.chmod(0o600)
            if _digest(target) != digest:
                raise BackupError(f"{relative} differs from the backup's after the restore")
    except BaseException:
        for path in copied:  # nothing of the state half-restored
            path.unlink(missing_ok=True)
        raise
    return manifest


def verify(manifest: Mapping[str, Any], tables: Mapping[str, TableSum]) -> None:
    """Fail, naming them, if any table's count or checksum differs from the manifest's."""
    expected = {n: TableSum(t["rows"], t["checksum"]) for n, t in manifest["tables"].items()}
    differ = sorted(n for n in expected.keys() | tables.keys() if expected.get(n) != tables.get(n))
    if differ:
        named = [
            f"{n} ({expected[n].rows} rows backed up, {tables[n].rows} restored)"
            if n in expected and n in tables
            else f"{n} ({'missing' if n in expected else 'not in the backup'})"
            for n in differ
        ]
        raise BackupError(f"the restored database differs from the backup: {', '.join(named)}")
