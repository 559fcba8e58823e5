"""The portal's access to the hub: one configured :class:`directus.HubClient` factory."""

from __future__ import annotations

from flask import Flask, current_app

from directus import HubClient
from portal.config import Config


class Hub:
    """Flask extension: builds hub clients with the portal's URL and timeout."""

    def init_app(self, app: Flask) -> None:
        app.extensions["tandem.hub"] = self

    @staticmethod
    def _config() -> Config:
        return current_app.extensions["tandem.config"]

    def anonymous(self) -> HubClient:
        """A client with no identity: enough for the liveness check, nothing else."""
        config = self._config()
        timeout = (min(3.05, config.hub_timeout_s), config.hub_timeout_s)
        return HubClient(config.hub_url, timeout=timeout, max_retries=0)


hub = Hub()
