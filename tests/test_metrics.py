"""Metrics (Prometheus) and request ids: the portal's, the hub client's, the scheduler's and
the bulk lane's; JSON log lines carrying the request id that goes with each hub call."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from directus import HubClient, HubError
from directus.bulk import open_lane, write_rows
from directus.logs import REQUEST_ID, configure
from directus.process import free_port
from sync.config import ConfigError, SyncConfig
from sync.runs import JobContext, item_label, run_job
from tests.factories import make_pair, make_sku, make_store


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- the portal ----------------------------------------------------------------------------


def test_the_portal_counts_requests_by_route_and_its_hub_calls(hub, make_portal):
    app = make_portal(hub)
    client = app.test_client()
    before = _value("tandem_portal_requests_total", route="/health", method="GET", status="200")
    assert client.get("/health").status_code == 200
    assert (
        _value("tandem_portal_requests_total", route="/health", method="GET", status="200")
        == before + 1
    )
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tandem_portal_request_seconds_bucket{le="0.3",method="GET",route="/health"}' in text
    assert "tandem_hub_calls_total{" in text
    # the URL rule, never the path: no id reaches a label
    client.get("/promotions/12345")
    assert "/promotions/12345" not in client.get("/metrics").get_data(as_text=True)


def test_metrics_are_for_this_machine_or_a_bearer_of_the_token_only(hub, make_portal):
    open_app = make_portal(hub)
    away = {"REMOTE_ADDR": "203.0.113.9"}
    assert open_app.test_client().get("/metrics", environ_base=away).status_code == 404
    # Behind a proxy every request comes from it: then only the token opens them.
    proxied = make_portal(hub, trusted_proxies=1).test_client()
    assert proxied.get("/metrics").status_code == 404
    spoofed = proxied.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert spoofed.status_code == 404
    guarded = make_portal(hub, metrics_token="m-token-123").test_client()
    assert guarded.get("/metrics").status_code == 404  # loopback is not enough then
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = guarded.get("/metrics", headers={"Authorization": "Bearer m-token-123"}, environ_base=away)
    assert ok.status_code == 200


def test_each_request_has_an_id_a_trusted_proxys_well_formed_one_kept(hub, make_portal):
    direct = make_portal(hub).test_client()
    fresh = direct.get("/health").headers["X-Request-Id"]
    assert len(fresh) == 32
    # a client's own id is not taken: only a trusted proxy's
    assert (
        direct.get("/health", headers={"X-Request-Id": "lb-7f3a-0001"}).headers["X-Request-Id"]
        != "lb-7f3a-0001"
    )
    proxied = make_portal(hub, trusted_proxies=1).test_client()
    kept = proxied.get("/health", headers={"X-Request-Id": "lb-7f3a-0001"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a-0001"
    forged = proxied.get("/health", headers={"X-Request-Id": 'x" level="ERROR'})
    assert forged.headers["X-Request-Id"] != 'x" level="ERROR'


def test_a_method_a_client_makes_up_is_counted_as_other(hub, make_portal):
    client = make_portal(hub).test_client()
    before = _value("tandem_portal_requests_total", route="(unmatched)", method="OTHER",
                    status="405")  # fmt: skip
    client.open("/health", method="BREW")
    assert _value("tandem_portal_requests_total", route="(unmatched)", method="OTHER",
                  status="405") == before + 1  # fmt: skip


# -- the request id travels to the hub and into the logs ----------------------------------


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An HTTP server that answers every GET with no rows and keeps the headers it got."""
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            body = b'{"data": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_hub_calls_carry_the_request_id_and_are_counted_by_resource(recorder):
    url, seen = recorder
    client = HubClient(url, token="t")
    before = _value("tandem_hub_calls_total", method="GET", resource="items/skus", status="200")
    client.read_items("skus")
    token = REQUEST_ID.set("req-00000001")
    try:
        client.read_items("skus")
        client.get("/users/7b1d1c1e-7a3c-4d5e-9f00-0123456789ab")
    finally:
        REQUEST_ID.reset(token)
        client.session.close()
    assert "X-Request-Id" not in seen[0]
    assert seen[1]["X-Request-Id"] == "req-00000001"
    assert (
        _value("tandem_hub_calls_total", method="GET", resource="items/skus", status="200")
        == before + 2
    )
    assert _value("tandem_hub_calls_total", method="GET", resource="users/:id", status="200") >= 1


def test_log_lines_are_json_with_the_request_id():
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    out = io.StringIO()
    try:
        configure("portal")
        root.handlers[0].setStream(out)  # type: ignore[attr-defined]
        token = REQUEST_ID.set("req-00000002")
        logging.getLogger("portal.test").warning("upload %s refused", 42)
        REQUEST_ID.reset(token)
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    line = json.loads(out.getvalue().splitlines()[-1])
    assert line["message"] == "upload 42 refused"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "req-00000002"
    assert line["process"] == "portal"


# -- the scheduler and the bulk lane -------------------------------------------------------


def test_job_runs_are_counted_by_job_status_and_item(sync_hub):
    def job(context: JobContext) -> None:
        context.counts["rows"] += 5
        assert REQUEST_ID.get() == context.run_id  # its hub calls carry the run's id

    before = _value("tandem_scheduler_runs_total", job="test.metrics", status="succeeded")
    assert run_job(sync_hub, "test.metrics", job, {}) == "succeeded"
    assert _value("tandem_scheduler_runs_total", job="test.metrics", status="succeeded") == (
        before + 1
    )
    assert _value("tandem_scheduler_items_total", job="test.metrics", item="rows") >= 5
    assert REQUEST_ID.get() is None


def test_a_run_the_hub_could_not_record_still_counts_as_failed(recorder):
    url, _seen = recorder  # answers GETs only: the run's record cannot be written
    before = _value("tandem_scheduler_runs_total", job="test.down", status="failed")
    with pytest.raises(HubError):
        run_job(HubClient(url, token="t", max_retries=0), "test.down", lambda _c: None, {})
    assert _value("tandem_scheduler_runs_total", job="test.down", status="failed") == before + 1


def test_document_codes_partners_choose_are_folded_in_labels():
    assert item_label("sent_850") == "sent_850"
    assert item_label("received_ORDERS") == "received_ORDERS"
    assert item_label("rows_new") == "rows_new"
    assert item_label("failed") == "failed"
    assert item_label("received_ZZ9") == "received_other"


def test_the_scheduler_serves_metrics_where_it_is_told():
    base = {"TANDEM_HUB_URL": "http://hub", "TANDEM_SYNC_TOKEN": "t",
            "TANDEM_SCHEDULER_LOCK": "/var/lib/tandem/lock"}  # fmt: skip
    assert SyncConfig.from_env(base).metrics_port is None
    config = SyncConfig.from_env({**base, "TANDEM_SCHEDULER_METRICS_PORT": "9102"})
    assert (config.metrics_port, config.metrics_addr) == (9102, "127.0.0.1")
    with pytest.raises(ConfigError, match="TANDEM_SCHEDULER_METRICS_PORT"):
        SyncConfig.from_env({**base, "TANDEM_SCHEDULER_METRICS_PORT": "http"})


def test_the_bulk_lane_counts_rows_by_kind_and_outcome(hub, admin):
    _supplier, distributor, _pair = make_pair(admin)
    sku = make_sku(admin, _supplier)
    store = make_store(admin, distributor, "S1")
    before = _value("tandem_bulk_rows_total", kind="pos", outcome="new")
    merges = _value("tandem_bulk_merge_seconds_count", kind="pos")
    rows = [(distributor["id"], store["id"], sku["id"], dt.date(2026, 3, d), 2, 398, "USD")
            for d in (2, 3, 4)]  # fmt: skip
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", rows)
    assert _value("tandem_bulk_rows_total", kind="pos", outcome="new") == before + 3
    assert _value("tandem_bulk_merge_seconds_count", kind="pos") == merges + 1
