"""How fast a test session gets a fresh hub: template copy + start, against bootstrap + start.

Both are measured in the same run on this machine. Run: .venv/bin/python bench/hub_start.py
Last line: ``hub_start template_s=<s> bootstrap_s=<s> speedup=<x>``
"""

from __future__ import annotations

import secrets
import statistics
import tempfile
import time
from pathlib import Path

from directus.install import ensure_installed
from directus.process import Hub, HubConfig, free_port
from directus.template import copy_database, ensure_template, generate_admin

ROUNDS = 3


def _config(folder: Path, db: Path) -> HubConfig:
    return HubConfig(
        port=free_port(),
        data_dir=folder,
        secret=secrets.token_urlsafe(32),
        db={"DB_CLIENT": "sqlite3", "DB_FILENAME": str(db)},
    )


def from_template(install, template) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        db = copy_database(template.db_path, folder / "hub.db")
        with Hub(install, _config(folder, db)):
            return time.perf_counter() - started


def from_scratch(install) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        hub = Hub(install, _config(folder, folder / "hub.db"))
        hub.bootstrap(*generate_admin())
        with hub:
            return time.perf_counter() - started


def main() -> None:
    install = ensure_installed()
    template = ensure_template(install)
    warm = [from_template(install, template) for _ in range(ROUNDS)]
    cold = [from_scratch(install) for _ in range(ROUNDS)]
    t, b = statistics.median(warm), statistics.median(cold)
    print(f"template copy + start: {', '.join(f'{s:.2f}s' for s in warm)}")
    print(f"bootstrap + start:     {', '.join(f'{s:.2f}s' for s in cold)}")
    print(f"hub_start template_s={t:.2f} bootstrap_s={b:.2f} speedup={b / t:.1f}")


if __name__ == "__main__":
    main()
