"""``python -m sync``: the one scheduler process."""

from __future__ import annotations

import logging
import sys

from directus import logs
from sync.config import ConfigError, SyncConfig
from sync.scheduler import SchedulerAlreadyRunning, serve


def main() -> int:
    logs.configure("scheduler")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        serve(SyncConfig.from_env())
    except (ConfigError, SchedulerAlreadyRunning) as exc:
        print(f"scheduler: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
