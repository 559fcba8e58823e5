"""The portal's access to the hub: one configured :class:`directus.HubClient` factory.

Data calls always go out with the signed-in user's own hub session (:meth:`Hub.login`,
:meth:`Hub.as_user`). The one service identity, :meth:`Hub.token_verifier`, may only read
personal API token rows and update their sealed session and last use, and read the hub's
write generation.

With ``TANDEM_READ_CACHE_MB`` set, a signed-in user's GETs are kept between the hub's
writes (:mod:`directus.reads`): each request reads the generation once, and the user's
answers kept under it are reused within that request and the next ones until it moves.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

from flask import Flask, current_app, g

from directus import HubClient, Tokens
from directus.reads import ReadCache, Reads
from domain import clock
from portal.config import Config


class Hub:
    """Flask extension: builds hub clients with the portal's URL and timeout."""

    def init_app(self, app: Flask) -> None:
        app.extensions["tandem.hub"] = self
        config: Config = app.extensions["tandem.config"]
        app.extensions["tandem.reads"] = (
            ReadCache(config.read_cache_mb * 1024 * 1024, config.read_cache_s)
            if config.read_cache_mb > 0
            else None
        )

    def _reads(self, identity: str | None) -> Reads | None:
        """Where this request keeps ``identity``'s reads: None without a read cache, a
        user, or a generation from the hub (read once per request)."""
        cache: ReadCache | None = current_app.extensions.get("tandem.reads")
        if cache is None or identity is None:
            return None
        if "tandem_generation" not in g:
            asks = current_app.extensions.get("tandem.generation_asker")
            if asks is None:
                asks = current_app.extensions["tandem.generation_asker"] = self.token_verifier()
            g.tandem_generation = cache.generation(asks)
        # The day too: an agreement lapses at midnight without a write (the hub's rules
        # compare its dates with $NOW).
        kept = g.tandem_generation
        return cache.for_identity(identity, f"{kept}@{clock.today()}" if kept else None)

    @staticmethod
    def _config() -> Config:
        return current_app.extensions["tandem.config"]

    def _timeout(self) -> tuple[float, float]:
        config = self._config()
        return (min(3.05, config.hub_timeout_s), config.hub_timeout_s)

    def anonymous(self) -> HubClient:
        """A client with no identity: enough for the liveness check, nothing else."""
        return HubClient(self._config().hub_url, timeout=self._timeout(), max_retries=0)

    def login(self, email: str, password: str, *, user_agent: str | None = None) -> HubClient:
        """Open a new hub session for a user (session mode; raises ``AuthFailed``).

        ``user_agent`` is what the hub records for the session (``directus_sessions``):
        a personal API token's session is named after its token this way.
        """
        return HubClient.login(
            self._config().hub_url,
            email,
            password,
            session=True,
            timeout=self._timeout(),
            user_agent=user_agent,
        )

    def as_user(
        self,
        tokens: Tokens,
        on_tokens: Callable[[Tokens], None],
        *,
        user_agent: str | None = None,
        keep_reads_as: str | None = None,
    ) -> HubClient:
        """A client on a user's existing hub session; ``on_tokens`` keeps each refreshed one.

        The hub records a refreshed session under the refreshing call's ``user_agent``.
        ``keep_reads_as`` (the user's id) keeps its reads between the hub's writes.
        """
        return HubClient(
            self._config().hub_url,
            tokens=tokens,
            on_tokens=on_tokens,
            timeout=self._timeout(),
            user_agent=user_agent,
            reads=self._reads(keep_reads_as),
        )

    def token_verifier(self) -> HubClient:
        """The portal-auth service account: reads personal API token rows, nothing else."""
        config = self._config()
        return HubClient(config.hub_url, token=config.portal_auth_token, timeout=self._timeout())


def keep_alive(client: HubClient) -> None:
    """Refresh a hub session past half its life.

    A session-mode session lives as long as its token (SESSION_COOKIE_TTL, a day by
    default) and only a refresh extends it, so a session in steady use is refreshed well
    before it ends, not only in the client's last-seconds margin.
    """
    tokens = client.tokens
    if tokens is None:
        return
    issued, expires = _jwt_times(tokens.access_token)
    if time.time() >= issued + (expires - issued) / 2:
        client.refresh()


def _jwt_times(token: str) -> tuple[float, float]:
    """A hub token's issued-at and expiry (the hub checks its signature; this only reads)."""
    body = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return float(claims["iat"]), float(claims["exp"])


hub = Hub()
