"""One delivered file into the hub: read, resolve, validate, stage, merge.

Used alike by the CLI (``tandem import``), the portal's upload (through ``python -m
ingest``) and the scheduler's drop-folder job. Memory stays flat whatever the file's
size: rows stream from the reader through validation into the bulk lane's staging
table, rejects stream into the rejects file.

- A good row becomes a staged row of the natural key (distributor, location, SKU, day).
- A bad row (unknown SKU or store, bad date, non-numeric units, ...) is written to the
  rejects file with its line number, field and reason; the good rows still land.
- A structurally wrong file (:class:`domain.ingest.FileError`) lands nothing, and the
  import is marked failed with the reason.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from directus.bulk import ForeignRow, Lane, Lookups
from domain import clock
from domain.ingest import (
    FileError,
)
from ingest import parallel
from ingest.mappings import MappingError, check_mapping
from ingest.readers import ColumnMap, check_format, read
from ingest.validate import Rejects, Resolver, validator

PROGRESS_EVERY = 50_000
#: An import whose every row was refused has failed; its rejects file says why.
ALL_REJECTED = "every one of its {n} rows was rejected (see its rejects, by line and field)"


@dataclass(frozen=True)
class Progress:
    rows_read: int
    rows_rejected: int
    seconds: float

    @property
    def rows_per_s(self) -> int:
        return int(self.rows_read / self.seconds) if self.seconds > 0 else 0


@dataclass(frozen=True)
class ImportResult:
    import_id: int | None
    format: str
    rows_read: int
    rows_rejected: int
    new: int
    changed: int
    unchanged: int
    data_from: dt.date | None
    data_through: dt.date | None
    seconds: float
    rejects: Path | None

    @property
    def rows_per_s(self) -> int:
        return int(self.rows_read / self.seconds) if self.seconds > 0 else 0


def _stage_in_parts(
    lane: Lane,
    source: Path,
    parts: int,
    kind: str,
    distributor: int,
    lookups: Lookups,
    mapping: ColumnMap,
    rejects: Rejects,
    report: Callable[[int], None],
    today: dt.date,
) -> None:
    """Stage with several processes; their rejects join ours in file order."""
    scratch = lane.stage_file(kind, "rejects").with_suffix(".csv")
    outcomes = parallel.stage_parallel(
        lane,
        source,
        parts=parts,
        kind=kind,
        distributor=distributor,
        lookups=lookups,
        mapping=mapping,
        rejects_parts=scratch,
        report=report,
        today=today,
    )
    rows = 0
    for done, part in outcomes:
        if done.error is not None:
            raise FileError(done.error.removeprefix(f"line {done.error_line}: "), done.error_line)
        rejects.absorb(part, done.rejected, done.early)
        rows += done.rows
    report(rows)
    lane.adopt([lane.stage_file(kind, f"part{n}") for n in range(len(outcomes))])


def _failed(lane: Lane, import_id: int | None, rejects: Rejects, error: str) -> None:
    """Nothing landed: drop the scratch data and the rejects file, and say why."""
    lane.discard()
    path = rejects.close()
    if path:
        path.unlink(missing_ok=True)
    if import_id is not None:
        lane.update_import(
            import_id,
            {
                "status": "failed",
                "error": error,
                "finished_at": clock.now(),
                "rows_read": 0,
                "rows_rejected": 0,
            },
        )


def _check_saved(kind: str, mapping: ColumnMap) -> None:
    """A mapping written straight into the hub is stored as written: a setting the
    mapping form would refuse fails the import naming it, before any row is read."""
    try:
        check_mapping(kind, mapping)
    except MappingError as exc:
        raise MappingError(
            exc.field,
            f"the saved column mapping's {exc.field} is not valid: {exc}; correct it on the "
            f"uploads page or with PUT /api/v1/column-mappings/{kind}",
        ) from None


def run_import(
    lane: Lane,
    source: Path,
    *,
    distributor: int,
    kind: str,
    fmt: str | None = None,
    mapping: ColumnMap | None = None,
    import_id: int | None = None,
    rejects_path: Path | None = None,
    progress: Callable[[Progress], None] | None = None,
    workers: int | None = None,
    parallel_min_bytes: int = parallel.MIN_BYTES,
) -> ImportResult:
    """Import one file; see the module's docstring. Raises FileError (after marking the
    import failed) if the file is structurally wrong: then nothing landed.

    A large CSV is staged by several processes (:mod:`ingest.parallel`; ``workers``
    defaults to the cores, up to 4); everything else by this one.
    """
    started = time.monotonic()
    now = clock.now()
    mapping = mapping or ColumnMap()
    rejects = Rejects(rejects_path)
    read_so_far = [0]

    def report(n: int) -> None:
        read_so_far[0] = n
        state = Progress(n + rejects.early, rejects.count, time.monotonic() - started)
        if import_id is not None:
            lane.update_import(
                import_id,
                {
                    "rows_read": state.rows_read,
                    "rows_rejected": state.rows_rejected,
                    "rows_per_s": state.rows_per_s,
                },
            )
        if progress:
            progress(state)

    if import_id is not None:
        lane.update_import(import_id, {"status": "running", "started_at": now})
    try:
        _check_saved(kind, mapping)
        found = check_format(source, fmt)
        if import_id is not None:
            lane.update_import(import_id, {"format": found})
        lookups = lane.lookups(distributor)
        parts = parallel.workers_for(source, workers, parallel_min_bytes) if found == "csv" else 1
        if parts > 1:
            _stage_in_parts(
                lane,
                source,
                parts,
                kind,
                distributor,
                lookups,
                mapping,
                rejects,
                report,
                now.date(),
            )
        else:
            res = Resolver(
                lookups,
                lane.date,
                mapping.date_format,
                mapping.decimal,
                mapping.thousands,
                today=now.date(),
            )
            lines = read(source, found, kind, mapping, rejects.add_early, lookups.dcs)
            validate = validator(kind)
            lane.stage(kind, validate(lines, distributor, res, rejects.add, report, PROGRESS_EVERY))
    except FileError as exc:
        _failed(lane, import_id, rejects, str(exc))
        raise
    except BaseException as exc:
        _failed(lane, import_id, rejects, f"the import stopped: {type(exc).__name__}")
        raise
    rows_read = read_so_far[0] + rejects.early
    path = rejects.close()
    seconds = time.monotonic() - started
    # Every row refused is a failed delivery (its rejects say why), not a quiet "done".
    refused_all = rows_read > 0 and rejects.count == rows_read
    try:
        merged = lane.merge(
            import_id=import_id,
            received_at=now,
            finish={
                "status": "failed" if refused_all else "done",
                **({"error": ALL_REJECTED.format(n=rows_read)} if refused_all else {}),
                "rows_read": rows_read,
                "rows_rejected": rejects.count,
                "rows_per_s": int(rows_read / seconds) if seconds > 0 else 0,
                "finished_at": clock.now(),
                "rejects": path.name if path else None,
            },
        )
    except ForeignRow as exc:  # rolled back: nothing landed
        _failed(lane, import_id, rejects, str(exc))
        raise
    except BaseException as exc:  # rolled back: nothing landed
        _failed(lane, import_id, rejects, f"the import stopped: {type(exc).__name__}")
        raise
    seconds = time.monotonic() - started
    if progress:
        progress(Progress(rows_read, rejects.count, seconds))
    return ImportResult(
        import_id,
        found,
        rows_read,
        rejects.count,
        merged.new,
        merged.changed,
        merged.unchanged,
        merged.data_from,
        merged.data_through,
        seconds,
        path,
    )
