"""``python -m ingest``: one import in its own process, for background uploads.

The portal starts one per upload so that no web worker ever parses or merges a file;
it polls the import's row in the hub for progress. Prints the result as JSON; exit
status 0 when the file landed, 2 when it was structurally wrong (nothing landed).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from directus.bulk import open_lane
from domain.ingest import KINDS, FileError
from ingest.pipeline import run_import
from ingest.readers import FORMATS, ColumnMap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--db", required=True, help="the hub database: sqlite:///… or postgresql://…"
    )
    parser.add_argument("--distributor", type=int, required=True)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--format", choices=FORMATS)
    parser.add_argument("--import-id", type=int)
    parser.add_argument("--rejects", type=Path, help="where to write the rejects file")
    parser.add_argument(
        "--mapping",
        help="JSON of a ColumnMap: {columns: {...}, date_format, encoding, delimiter, "
        "decimal, thousands}",
    )
    parser.add_argument("--delete-after", action="store_true", help="remove the file when done")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    mapping = ColumnMap(**json.loads(args.mapping)) if args.mapping else None
    try:
        with open_lane(args.db) as lane:
            result = run_import(
                lane,
                args.file,
                distributor=args.distributor,
                kind=args.kind,
                fmt=args.format,
                mapping=mapping,
                import_id=args.import_id,
                rejects_path=args.rejects,
            )
    except FileError as exc:
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return 2
    finally:
        if args.delete_after:
            args.file.unlink(missing_ok=True)
    print(
        json.dumps(
            {
                "status": "done",
                "import_id": result.import_id,
                "format": result.format,
                "rows_read": result.rows_read,
                "rows_rejected": result.rows_rejected,
                "new": result.new,
                "changed": result.changed,
                "unchanged": result.unchanged,
                "seconds": round(result.seconds, 3),
                "rows_per_s": result.rows_per_s,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
