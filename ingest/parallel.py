"""A large CSV staged by several processes at once, each a byte range of the file.

Parsing and validating is Python work, one core per process (threads would share one:
the GIL). So a big CSV is cut at line breaks into one range per core; each worker process
reads its range, validates it exactly as :mod:`ingest.pipeline` does and writes its rows
into a stage file of its own, and its rejects into a part file. The lane then merges all
the stage files in one transaction, as if one process had staged them; line numbers are
the file's own, so the last line of a key still wins and rejects name the right line.

A CSV field in quotes may hold a line break, so a file with any ``"`` is never cut: it
is staged by one process. On SQLite a worker's stage file is a scratch database the lane
attaches; on PostgreSQL it is ``COPY`` text, which the lane copies into its temporary
stage table once the workers are done.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directus.bulk import (
    Lane,
    Lookups,
    PostgresLane,
    open_stage_file,
    sqlite_date,
    stage_into,
    write_copy_file,
)
from domain.ingest import FileError
from ingest.readers import ColumnMap, csv_header, field_getter, fields_of, not_decodable
from ingest.validate import Rejects, Resolver, validator

MIN_BYTES = 8 * 1024 * 1024  # below this, one process is as fast
MAX_WORKERS = 4


@dataclass(frozen=True)
class Chunk:
    start: int  # byte offset of the range's first line
    end: int  # byte offset just past its last line
    first_line: int  # that first line's number in the file (the header is line 1)


@dataclass(frozen=True)
class Task:
    path: Path
    chunk: Chunk
    kind: str
    distributor: int
    lookups: Lookups
    mapping: ColumnMap
    delimiter: str
    header: list[str]
    stage: Path
    rejects: Path
    today: dt.date
    copy: bool  # stage as COPY text (PostgreSQL), not into a SQLite file


@dataclass(frozen=True)
class Done:
    rows: int
    early: int  # rejected for their shape, before validation
    rejected: int
    error: str | None = None
    error_line: int = 0


def workers_for(path: Path, workers: int | None = None, min_bytes: int = MIN_BYTES) -> int:
    """How many processes should stage this CSV (1: stage it in this one)."""
    cores = workers or min(MAX_WORKERS, len(os.sched_getaffinity(0)))
    size = path.stat().st_size
    if cores < 2 or size < min_bytes or size == 0:
        return 1
    if any(b'"' in block for block in _blocks(path, 0, size)):
        return 1  # a quoted field may hold a line break: never cut such a file
    return cores


BLOCK = 1 << 20


def _blocks(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The file's bytes from ``start`` to ``end``, a megabyte at a time (memory stays flat
    whatever the file's size; no mapping that would count the whole file as resident)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        while start < end:
            block = handle.read(min(BLOCK, end - start))
            if not block:
                return
            start += len(block)
            yield block


def _next_line(path: Path, at: int, size: int) -> int:
    """The offset just after the first line break at or after ``at`` (or ``size``)."""
    offset = at
    for block in _blocks(path, at, size):
        found = block.find(b"\n")
        if found >= 0:
            return offset + found + 1
        offset += len(block)
    return size


def plan(path: Path, parts: int) -> tuple[bytes, list[Chunk]]:
    """The header line, and ``parts`` ranges of whole lines after it."""
    size = path.stat().st_size
    header_end = _next_line(path, 0, size)
    with open(path, "rb") as handle:
        header = handle.read(header_end)
    cuts = [header_end]
    for n in range(1, parts):
        cuts.append(
            _next_line(path, max(cuts[-1], header_end + (size - header_end) * n // parts), size)
        )
    cuts.append(size)
    chunks, line = [], 2
    for start, end in itertools.pairwise(cuts):
        if end > start:
            chunks.append(Chunk(start, end, line))
            line += sum(block.count(b"\n") for block in _blocks(path, start, end))
    return header, chunks


def _rows(task: Task) -> Iterator[list[Any]]:
    """The range's CSV rows, each with its line number appended."""
    encoding = task.mapping.encoding
    with open(task.path, "rb") as handle:
        handle.seek(task.chunk.start)
        remaining = task.chunk.end - task.chunk.start
        number = task.chunk.first_line

        def lines() -> Iterator[str]:
            nonlocal remaining, number
            for raw in handle:
                if remaining <= 0:
                    return
                remaining -= len(raw)
                try:
                    yield raw.decode(encoding)
                except UnicodeDecodeError as exc:
                    raise not_decodable(exc, encoding, number) from None
                number += 1

        reader = csv.reader(lines(), delimiter=task.delimiter)
        first = task.chunk.first_line - 1
        try:
            for row in reader:
                row.append(first + reader.line_num)
                yield row
        except csv.Error as exc:
            raise FileError(f"not a readable CSV file: {exc}", number) from None


def work(index: int, task: Task, counter: Any, results: Any) -> None:
    """A worker process: stage one range. Puts ``(index, Done)`` on ``results``."""
    rejects = Rejects(task.rejects, header=False)
    seen = [0]

    def report(n: int) -> None:
        seen[0] = n
        counter.value = n

    try:
        try:
            m = task.mapping
            resolver = Resolver(
                task.lookups,
                _pg_date if task.copy else sqlite_date,
                m.date_format,
                m.decimal,
                m.thousands,
                task.today,
            )
            getter = field_getter(task.header, task.kind, task.mapping)
            lines = fields_of(_rows(task), getter, len(task.header), rejects.add_early)
            validate = validator(task.kind)
            rows = validate(lines, task.distributor, resolver, rejects.add, report, 20_000)
            if task.copy:
                write_copy_file(task.stage, task.kind, rows)
            else:
                conn = open_stage_file(task.stage, task.kind)
                try:
                    stage_into(conn, task.kind, rows)
                finally:
                    conn.close()
        finally:
            rejects.close()
        results.put((index, Done(seen[0], rejects.early, rejects.count)))
    except FileError as exc:
        results.put((index, Done(seen[0], rejects.early, rejects.count, str(exc), exc.line)))
    except BaseException as exc:  # reported to the parent, which fails the import
        error = f"{type(exc).__name__}: {exc}"
        results.put((index, Done(seen[0], rejects.early, rejects.count, error)))


def _pg_date(day: dt.date) -> dt.date:
    """A ``date`` as PostgreSQL stores it: itself (``COPY`` text writes it ISO)."""
    return day


def stage_parallel(
    lane: Lane,
    path: Path,
    *,
    parts: int,
    kind: str,
    distributor: int,
    lookups: Lookups,
    mapping: ColumnMap,
    rejects_parts: Path,
    report: Callable[[int], None],
    today: dt.date,
) -> list[tuple[Done, Path]]:
    """Stage ``path`` with ``parts`` processes into the lane; returns each worker's result
    and its rejects part, in file order. Raises FileError if any range was unreadable."""
    header_bytes, chunks = plan(path, parts)
    try:
        first = header_bytes.decode(mapping.encoding)
    except UnicodeDecodeError as exc:
        raise not_decodable(exc, mapping.encoding, 1) from None
    delimiter, header = csv_header(first.rstrip("\r\n"), mapping.delimiter)
    field_getter(header, kind, mapping)  # wrong columns: FileError now, before any process
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    tasks, counters, processes = [], [], []
    for n, chunk in enumerate(chunks):
        task = Task(
            path=path,
            chunk=chunk,
            kind=kind,
            distributor=distributor,
            lookups=lookups,
            mapping=mapping,
            delimiter=delimiter,
            header=header,
            stage=lane.stage_file(kind, f"part{n}"),
            rejects=rejects_parts.with_name(f"{rejects_parts.name}.{n}"),
            today=today,
            copy=isinstance(lane, PostgresLane),
        )
        counter = context.Value("q", 0)
        process = context.Process(target=work, args=(n, task, counter, results), daemon=True)
        tasks.append(task)
        counters.append(counter)
        processes.append(process)
    outcomes: dict[int, Done] = {}
    try:
        for process in processes:
            process.start()
        while len(outcomes) < len(tasks):
            try:
                n, result = results.get(timeout=0.25)
                outcomes[n] = result
            except queue.Empty:
                died = [
                    p.exitcode for n, p in enumerate(processes) if n not in outcomes and p.exitcode
                ]
                if died:
                    raise RuntimeError(f"a staging process died (exit code {died[0]})") from None
            report(sum(c.value for c in counters))
    finally:
        for process in processes:
            if process.pid is None:
                continue  # never started
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return [(outcomes[n], tasks[n].rejects) for n in range(len(tasks))]
