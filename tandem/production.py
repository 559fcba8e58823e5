"""``tandem run --production``: the production topology of ``docker-compose.yml``, on this
machine, from Debian's PostgreSQL, Redis and HAProxy.

- PostgreSQL (the hub's database and the bulk lane's), in ``<state>/postgres``, login
  ``tandem`` with a generated password (``secrets.json``).
- Redis: the hub instances' synchronization and rate limiter (database 0), the portal's
  sign-in throttle (1), the scheduler's lease (2).
- Two Directus instances on that one database, bootstrapped once, sharing Redis; the data
  cache stays off (a cached row would outlive a revocation).
- HAProxy on the hub port (``TANDEM_HUB_PORT``), health-checking both instances
  (:func:`tandem.servers.haproxy_config`).
- The portal (gunicorn), the scheduler (held to one by its Redis lease, not a lock file)
  and the EDI receiver, all calling the hub through HAProxy.

A server or hub instance that dies is started again, as compose's ``restart:
unless-stopped`` does; meanwhile HAProxy sends every request to the other hub instance.
"""

from __future__ import annotations

from directus.install import ensure_installed
from directus.process import RATE_LIMITS, Hub, HubConfig, check_port_free
from tandem.servers import Haproxy, Postgres, Redis, ServerUnavailable, postgres_bin_dir
from tandem.settings import StackSettings
from tandem.stack import Echo, Stack
from tandem.state import load_or_create_secrets

DATABASE = "tandem"
DATABASE_USER = "tandem"
#: Redis databases, as docker-compose.yml numbers them.
REDIS_HUB_DB, REDIS_PORTAL_DB, REDIS_SCHEDULER_DB = 0, 1, 2


def hub_configs(
    settings: StackSettings, secret: str, db: dict[str, str], redis_url: str
) -> list[HubConfig]:
    """The hub instances' settings: one database, one Redis, one secret, one public URL."""
    shared = {
        **RATE_LIMITS,
        "REDIS": redis_url,
        "SYNCHRONIZATION_STORE": "redis",
        "RATE_LIMITER_STORE": "redis",
        # Files uploaded through either instance are served by both.
        "STORAGE_LOCAL_ROOT": str(settings.state_dir / "hub-uploads"),
    }
    return [
        HubConfig(
            port=port,
            host=settings.host,
            data_dir=settings.state_dir / f"hub{i}",
            secret=secret,
            db=db,
            public_url=settings.hub_url,
            extra_env=shared,
        )
        for i, port in enumerate(settings.hub_instance_ports, 1)
    ]


def state_database_url(settings: StackSettings) -> str | None:
    """The topology's database (as the bulk lane names it), if the state folder holds its
    PostgreSQL cluster: what ``tandem backup`` reads there."""
    if not (settings.state_dir / "postgres" / "data" / "PG_VERSION").is_file():
        return None
    password = load_or_create_secrets(settings.state_dir).database_password
    return f"postgresql://{DATABASE_USER}:{password}@127.0.0.1:{settings.pg_port}/{DATABASE}"


class ProductionStack(Stack):
    """The stack on PostgreSQL, Redis, two hub instances and HAProxy."""

    def __init__(self, settings: StackSettings, echo: Echo) -> None:
        super().__init__(settings, echo)
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise ServerUnavailable(
                "PostgreSQL is not installed: `make run-production` installs it "
                "(apt-get install postgresql)"
            )
        state = settings.state_dir
        self.postgres = Postgres(
            bin_dir=bin_dir,
            root=state / "postgres",
            port=settings.pg_port,
            user=DATABASE_USER,
            password=self.secrets.database_password,
        )
        self.redis = Redis(state / "redis", port=settings.redis_port)
        self.balancer = Haproxy(
            state / "haproxy",
            [(f"hub{i}", f"{settings.host}:{port}")
             for i, port in enumerate(settings.hub_instance_ports, 1)],
            port=settings.hub_port,
        )  # fmt: skip

    # -- the servers ----------------------------------------------------------------------

    def start_hubs(self) -> str:
        settings = self.settings
        for port in (settings.pg_port, settings.redis_port, *settings.hub_instance_ports,
                     settings.hub_port):  # fmt: skip
            check_port_free(settings.host, port)
        self.echo("starting PostgreSQL and Redis…")
        self.postgres.start()
        self.postgres.ensure_database(DATABASE)
        self.redis.start()
        install = ensure_installed(settings.cache_dir)
        configs = hub_configs(
            settings,
            self.secrets.hub_secret,
            self.postgres.directus_db(DATABASE),
            self.redis.url(REDIS_HUB_DB),
        )
        (settings.state_dir / "hub-uploads").mkdir(parents=True, exist_ok=True)
        self.hubs = [Hub(install, config) for config in configs]
        # Bootstrapped, migrated and seeded through one instance, alone: two would race on
        # an empty database, and Directus 11.17.4 can crash changing a relation while
        # another instance rebuilds its schema (it shares a frozen copy through Redis).
        first = self.hubs[0]
        first.bootstrap(self.secrets.admin_email, self.secrets.admin_password)
        self.echo("starting the first hub instance…")
        first.start()
        return first.url

    def serve_hubs(self, migrated_url: str) -> str:
        self.echo(f"starting {len(self.hubs) - 1} more hub instance(s) and the load balancer…")
        for hub in self.hubs[1:]:
            hub.start()
        self.balancer.start()
        return self.balancer.url

    @property
    def lane_url(self) -> str:
        return self.postgres.url(DATABASE)

    def scheduler_lock(self) -> str:
        return self.redis.url(REDIS_SCHEDULER_DB)

    def portal_env(self) -> dict[str, str]:
        return {"TANDEM_RATELIMIT_STORAGE": self.redis.url(REDIS_PORTAL_DB)}

    def hubs_alive(self) -> bool:
        """A server or hub instance that died is started again, as compose's ``restart:
        unless-stopped`` does (meanwhile the other hub instance serves); False if one
        cannot be."""
        servers: list[tuple[str, Postgres | Redis | Haproxy | Hub]] = [
            ("PostgreSQL", self.postgres),
            ("Redis", self.redis),
            *((f"hub instance {i}", hub) for i, hub in enumerate(self.hubs, 1)),
            ("the load balancer", self.balancer),
        ]
        for name, server in servers:
            if server.process is not None and server.process.poll() is None:
                continue
            self.echo(f"{name} exited; starting it again")
            server.stop()
            try:
                server.start()
            except Exception as exc:  # reported, then the stack stops
                self.echo(f"{name} did not start again: {exc}")
                return False
        return True

    def stop(self) -> None:
        super().stop()
        self.balancer.stop()
        self.redis.stop()
        self.postgres.stop()
