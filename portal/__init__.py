"""Tandem's portal: a Flask app that enforces the data-governance roles on the hub's data."""

from __future__ import annotations

from flask import Flask

from directus import HubClient, logs
from directus.integrity import IntegrityMissing, require_integrity
from portal import api, auth, errors, health, metrics, pages, tokens
from portal.config import Config, ConfigError
from portal.data.registry import KeyConverter
from portal.hub import hub
from portal.journeys import (
    account,
    edi,
    exceptions,
    exports,
    home,
    operator,
    orders,
    planning,
    promotions,
    reviews,
    sellthrough,
    uploads,
)

__all__ = ["Config", "ConfigError", "IntegrityMissing", "create_app", "serve"]


def serve() -> Flask:
    """gunicorn's entry (``portal:serve()``): JSON logs, then the portal from the environment."""
    logs.configure("portal")
    return create_app()


def create_app(config: Config | None = None) -> Flask:
    """Build the portal. Without ``config``, read it from the environment (strictly).

    Refuses (:class:`IntegrityMissing`) a hub that answers without Tandem's integrity
    extension; a hub that does not answer yet is left to ``/health`` to report.
    """
    config = config or Config.from_env()
    timeout = (min(3.05, config.hub_timeout_s), config.hub_timeout_s)
    require_integrity(HubClient(config.hub_url, timeout=timeout, max_retries=0))
    app = Flask(__name__)
    app.url_map.converters["key"] = KeyConverter  # registry.INT_KEY, in every blueprint
    app.config.from_mapping(config.flask_settings())
    app.extensions["tandem.config"] = config
    hub.init_app(app)
    metrics.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    tokens.init_app(app)
    api.init_app(app)
    pages.init_app(app)
    app.register_blueprint(health.bp)
    # The journeys' pages (each registers its blueprint and its navigation entries).
    home.init_app(app)
    sellthrough.init_app(app)
    uploads.init_app(app)
    promotions.init_app(app)
    planning.init_app(app)
    exceptions.init_app(app)
    orders.init_app(app)
    reviews.init_app(app)
    edi.init_app(app)
    exports.init_app(app)
    operator.init_app(app)
    account.init_app(app)
    pages.check_nav(app)
    return app
