"""The portal's metrics and request ids.

- Every request gets an id: behind a trusted proxy (``TANDEM_TRUSTED_PROXIES``), its
  ``X-Request-Id`` if well-formed; else a new one.
  It is in the response's ``X-Request-Id``, in every log line of the request
  (:mod:`directus.logs`), and in every hub call made for it.
- ``tandem_portal_requests_total`` (route, method, status) and
  ``tandem_portal_request_seconds`` (route, method): the route is the URL rule
  (``/promotions/<key:promotion_id>``), never the path, so no id reaches a label. The
  hub client's own ``tandem_hub_call*`` and the bulk lane's ``tandem_bulk_*`` are served
  beside them.
- ``GET /metrics`` in Prometheus's text format: with ``TANDEM_METRICS_TOKEN`` set, to a
  bearer of that token; without it, to this machine only (a loopback peer, and only when
  no proxy is trusted: behind one, every request would come from it). Anyone else gets
  404, as for a page that does not exist.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from directus.logs import REQUEST_ID, request_id_from
from portal.config import Config

REQUESTS = Counter("tandem_portal_requests_total", "Portal requests", ["route", "method", "status"])
LATENCY = Histogram(
    "tandem_portal_request_seconds",
    "Portal request latency",
    ["route", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
)


#: Methods counted by name; any other is counted as OTHER (a client chooses the method).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _config() -> Config:
    return current_app.extensions["tandem.config"]


def _start() -> None:
    g.request_started = time.perf_counter()
    proxied = _config().trusted_proxies > 0
    g.request_id = request_id_from(request.headers.get("X-Request-Id") if proxied else None)
    g.request_id_token = REQUEST_ID.set(g.request_id)


def _finish(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    started = g.get("request_started")
    if started is not None and route != "/metrics":
        method = request.method if request.method in METHODS else "OTHER"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
    if "request_id" in g:
        response.headers["X-Request-Id"] = g.request_id
    return response


def _forget(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        REQUEST_ID.reset(token)


def _may_read() -> bool:
    config = _config()
    if config.metrics_token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {config.metrics_token}".encode())
    if config.trusted_proxies > 0:
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def metrics() -> Response:
    if not _may_read():
        abort(404)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.add_url_rule("/metrics", "metrics", metrics)
