"""The production compose file and image: pinned versions, shared settings, required secrets."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from directus.process import RATE_LIMITS
from tandem.production import REDIS_HUB_DB, REDIS_PORTAL_DB, REDIS_SCHEDULER_DB, hub_configs
from tandem.servers import haproxy_config
from tandem.settings import StackSettings
from tandem.stack import PORTAL_GUNICORN

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
TANDEM_ENV = COMPOSE["x-tandem-env"]
SECRET_KEY = re.compile(r"SECRET|PASSWORD|TOKEN(?!_TTL)")
REQUIRED_REFERENCE = re.compile(r"\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}")


def _dockerfile_instructions() -> list[str]:
    """Return the Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (REPO_ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in "\n".join(lines).replace("\\\n", " ").splitlines() if i.strip()]


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else command


def _environments() -> dict[str, dict]:
    envs = {name: s.get("environment", {}) for name, s in SERVICES.items()}
    return {**envs, "x-tandem-env": TANDEM_ENV, "x-directus-env": COMPOSE["x-directus-env"]}


HUBS = ("directus-1", "directus-2")


@pytest.mark.parametrize("name", HUBS)
def test_hub_is_the_pinned_official_directus_image_on_postgres(name):
    hub = SERVICES[name]
    assert hub["image"] == "directus/directus:11.17.4"
    assert hub["environment"]["DB_CLIENT"] == "pg"
    assert hub["environment"]["REDIS"].startswith("redis://redis:")
    assert hub["environment"]["SYNCHRONIZATION_STORE"] == "redis"


@pytest.mark.parametrize("name", HUBS)
def test_hub_instances_load_tandems_integrity_hook(name):
    assert "./directus/extensions:/directus/extensions:ro" in SERVICES[name]["volumes"]


def test_hub_data_cache_is_off_so_a_revocation_applies_on_the_next_request():
    """Directus's data cache would serve rows from before a revocation for CACHE_TTL."""
    assert SERVICES["directus-1"]["environment"]["CACHE_ENABLED"] == "false"


def test_hub_rate_limiter_is_on_as_make_run_has_it_counted_in_redis():
    environment = SERVICES["directus-1"]["environment"]
    limiter = {key: value for key, value in RATE_LIMITS.items() if key.startswith("RATE_")}
    assert {key: environment.get(key) for key in limiter} == {
        **limiter,
        "RATE_LIMITER_STORE": "redis",
    }
    assert limiter["RATE_LIMITER_ENABLED"] == "true"


@pytest.mark.parametrize("name", [n for n, s in SERVICES.items() if "image" in s])
def test_every_image_is_pinned_to_a_version_tag_not_latest(name):
    # Split on the last path segment so a registry's host:port is not taken for a tag.
    _, _, tag = SERVICES[name]["image"].rpartition("/")[2].partition(":")
    assert re.search(r"\d", tag), f"{name}: image has no version tag"
    assert tag != "latest"


@pytest.mark.parametrize("name", ["portal", "scheduler", "receiver", "migrate"])
def test_python_services_share_every_value_of_the_tandem_env(name):
    environment = SERVICES[name]["environment"]
    # migrate alone calls directus-1 directly: the balancer starts after it.
    own = {"TANDEM_HUB_URL": "http://directus-1:8055"} if name == "migrate" else {}
    assert {key: environment.get(key) for key in TANDEM_ENV} == {**TANDEM_ENV, **own}


# -- the same topology as `make run-production` (tandem/production.py) ---------------------


def _production_settings() -> StackSettings:
    return StackSettings.from_env({"TANDEM_STATE_DIR": "/var/lib/tandem"})


def test_compose_runs_the_services_of_the_production_stack():
    settings = _production_settings()
    hubs = [name for name in SERVICES if name.startswith("directus-")]
    assert len(hubs) == len(settings.hub_instance_ports) == 2
    assert set(SERVICES) == {"postgres", "redis", *hubs, "haproxy", "migrate", "portal",
                             "scheduler", "receiver"}  # fmt: skip
    # Every Python service calls the hub through the balancer, which fronts every instance.
    assert TANDEM_ENV["TANDEM_HUB_URL"] == "http://haproxy:8055"
    assert set(SERVICES["haproxy"]["depends_on"]) == set(hubs)


def test_the_balancers_configuration_is_the_one_tandem_writes():
    mounted = next(v for v in SERVICES["haproxy"]["volumes"] if v.endswith("haproxy.cfg:ro"))
    path = REPO_ROOT / mounted.split(":")[0]
    servers = [(f"hub{i}", f"directus-{i}:8055") for i in (1, 2)]
    expected = haproxy_config(":8055", servers, resolver="127.0.0.11:53")
    assert path.read_text() == expected


def test_the_hub_instances_have_the_production_stacks_settings():
    """Each setting compose gives the hubs is what `tandem run --production` gives them,
    but for where things are (database, Redis, URL) and the secrets."""
    config = hub_configs(_production_settings(), "s", {}, "redis://127.0.0.1:6380")[0]
    ours = config.environment()
    where = {"PUBLIC_URL", "REDIS", "ADMIN_EMAIL", "ADMIN_PASSWORD", "SECRET"}
    theirs = {k: v for k, v in COMPOSE["x-directus-env"].items()
              if not k.startswith("DB_") and k not in where}  # fmt: skip
    assert {key: ours.get(key) for key in theirs} == theirs
    assert COMPOSE["x-directus-env"]["REDIS"] == f"redis://redis:6379/{REDIS_HUB_DB}"


def test_the_scheduler_lease_and_the_sign_in_throttle_use_the_stacks_redis_databases():
    assert TANDEM_ENV["TANDEM_SCHEDULER_LOCK"] == f"redis://redis:6379/{REDIS_SCHEDULER_DB}"
    assert TANDEM_ENV["TANDEM_RATELIMIT_STORAGE"] == f"redis://redis:6379/{REDIS_PORTAL_DB}"


def test_exactly_one_scheduler_runs_the_sync_process():
    scheduler = SERVICES["scheduler"]
    assert scheduler["deploy"]["replicas"] == 1
    assert _command(scheduler) == ["python", "-m", "sync"]


def test_portal_never_runs_the_scheduler():
    portal = SERVICES["portal"]
    command = _command(portal) or json.loads(
        next(i for i in _dockerfile_instructions() if i.startswith("CMD "))[4:]
    )
    assert command[0] == "gunicorn"
    assert not any("sync" in part for part in command)


def test_the_image_runs_the_portal_as_tandem_run_does():
    command = json.loads(next(i for i in _dockerfile_instructions() if i.startswith("CMD "))[4:])
    given = [command[i : i + len(PORTAL_GUNICORN)] for i in range(len(command))]
    assert list(PORTAL_GUNICORN) in given, f"{command} lacks {PORTAL_GUNICORN}"


@pytest.mark.parametrize("where", sorted(_environments()))
def test_secrets_are_required_references_never_literal_values(where):
    environment = _environments()[where]
    assert isinstance(environment, dict), f"{where}: environment must be a mapping"
    for key, value in environment.items():
        if SECRET_KEY.search(key):
            assert REQUIRED_REFERENCE.fullmatch(str(value)), f"{where}: {key} is not required"


def test_image_base_is_pinned_and_dependencies_install_with_hashes():
    instructions = _dockerfile_instructions()
    base = next(i for i in instructions if i.startswith("FROM ")).split()[1]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base)
    assert any(i.startswith("RUN pip install") and "--require-hashes" in i for i in instructions)


def test_the_image_copies_every_python_package_the_project_installs():
    """pip install . fails in the image if a package named in pyproject.toml is not there."""
    found = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    packages = {pattern.removesuffix("*") for pattern in found}  # "portal*": portal and below
    copies = [i.split()[1:-1] for i in _dockerfile_instructions() if i.startswith("COPY ")]
    copied = {source.split("/")[0] for sources in copies for source in sources}
    assert set(packages) <= copied


def test_the_bulk_lane_reaches_the_hubs_database_from_portal_and_scheduler():
    for name in ("portal", "scheduler"):
        env = SERVICES[name]["environment"]
        assert env["TANDEM_HUB_DB_URL"].startswith("postgresql://tandem:")
        assert env["TANDEM_HUB_DB_URL"].endswith("@postgres:5432/tandem")
    # the lane's key ranges need byte-order collation
    assert "--locale=C" in SERVICES["postgres"]["environment"]["POSTGRES_INITDB_ARGS"]
    # both portal replicas serve any upload's rejects; the scheduler reads the drop folders
    assert "tandem-spool:/var/lib/tandem-spool" in SERVICES["portal"]["volumes"]
    assert "tandem-drop:/var/lib/tandem-drop" in SERVICES["scheduler"]["volumes"]
    # drop imports' rejects are kept in the spool, where the portal serves them
    assert "tandem-spool:/var/lib/tandem-spool" in SERVICES["scheduler"]["volumes"]
