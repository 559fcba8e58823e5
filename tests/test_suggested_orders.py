"""A distributor's suggested orders on a real hub pinned to Wednesday 2 December 2026:
the base-stock numbers by hand from its own POS, stock and the pair's lead time (the
SKU's catalog one, then the one its scorecard measured), the policy the pair set, the
link that fills the order form, and the refusals (a supplier, another distributor, a
pair not its own)."""

from __future__ import annotations

import datetime as dt
import html
import io
import secrets
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask
from openpyxl import load_workbook

from directus import HubClient
from directus.bulk import open_lane, write_rows
from governance.errors import GovernanceError
from governance.partners import ensure_partnership, set_planning_settings
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync.runs import JobContext
from sync.scorecards import compute_scorecards
from tests.factories import make_org, make_sku, make_store, make_user, sign_in
from tests.pinning import module_hub

TODAY = dt.date(2026, 12, 2)
hub, admin = module_hub(TODAY)
# The 13 weeks ended before today: Monday 31 Aug to Sunday 29 Nov. Ten a week on
# average, 8 and 12 alternately and 10 in the last: sigma_d^2 = (12 * 4) / 13.
WEEKS = [dt.date(2026, 8, 31) + dt.timedelta(days=7 * k) for k in range(13)]
UNITS = [8, 12] * 6 + [10]


@pytest.fixture
def app(hub, make_portal) -> Flask:
    return make_portal(hub)


@pytest.fixture(scope="module")
def world(hub, admin) -> dict:
    supplier, other = make_org(admin, "supplier"), make_org(admin, "supplier")
    distributor, rival = make_org(admin, "distributor"), make_org(admin, "distributor")
    pid = ensure_partnership(admin, supplier["id"], distributor["id"])
    ensure_partnership(admin, other["id"], distributor["id"])
    foreign_pair = ensure_partnership(admin, supplier["id"], rival["id"])
    oats = make_sku(admin, supplier)
    admin.update_item("skus", oats["id"], {"case_pack": 6, "cost_minor": 250, "lead_time_days": 14})
    cola = make_sku(admin, other)
    store = make_store(admin, distributor, "E1", "east")
    far = make_store(admin, rival, "R1", "east")
    d, r = distributor["id"], rival["id"]
    pos = [(d, store["id"], oats["id"], w + dt.timedelta(days=2), u, u * 250, "USD")
           for w, u in zip(WEEKS, UNITS, strict=True)]  # fmt: skip
    pos += [(d, store["id"], cola["id"], w, 500, 500, "USD") for w in WEEKS]  # not oats
    pos += [(r, far["id"], oats["id"], w, 900, 900, "USD") for w in WEEKS]  # the rival's
    stock = [
        (d, store["id"], oats["id"], dt.date(2026, 11, 30), 7, 3, 2),  # position 12
        (d, store["id"], cola["id"], dt.date(2026, 11, 30), 0, 0, 0),
        (r, far["id"], oats["id"], dt.date(2026, 11, 30), 0, 0, 0),
    ]
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", stock)
    return {
        "pid": pid, "foreign_pair": foreign_pair, "oats": oats, "cola": cola, "store": store,
        "far": far, "supplier": supplier, "distributor": distributor,
        "buyer": make_user(admin, "distributor_user", distributor),
        "rival": make_user(admin, "distributor_user", rival),
        "seller": make_user(admin, "supplier_user", supplier),
    }  # fmt: skip


def order_links(page: str) -> list[dict[str, list[str]]]:
    links = []
    for chunk in page.split('class="order-link"')[:-1]:
        href = html.unescape(chunk.rsplit('href="', 1)[1].split('"', 1)[0])
        links.append(parse_qs(urlparse(href).query))
    return links


def test_the_suggestion_by_hand_with_the_catalogs_lead_time(app, world):
    browser = sign_in(app, world["buyer"], remote_addr="10.14.0.1")
    page = browser.get(f"/orders/suggestions?pair={world['pid']}").get_data(as_text=True)
    assert world["oats"]["gtin"] in page
    assert world["cola"]["gtin"] not in page  # another supplier's SKU
    assert world["far"]["name"] not in page  # another distributor's store
    assert "catalog lead time" in page
    # d = 10, sigma_d^2 = 48/13; LT = 14 days = 2 weeks, no variability; z(0.95) = 1.6449:
    # SS = 1.6449 * sqrt(2 * 48/13) = 4.47; S = 10 * (2 + 1) + 4.47 = 34.47;
    # position 7 + 3 + 2 = 12; short 22.47: 4 cases of 6 = 24.
    assert '<td class="n">4.47</td>' in page
    assert '<td class="n">34.47</td>' in page
    assert "24 (4 cases of 6)" in page
    (link,) = order_links(page)
    assert link["partnership"] == [str(world["pid"])]
    assert link["ship_to"] == [str(world["store"]["id"])]
    assert link["requested_date"] == ["2026-12-16"]  # today + 14 days
    assert (link["sku-1"], link["qty-1"], link["price-1"]) == (
        [world["oats"]["gtin"]],
        ["24"],
        ["2.50"],
    )
    # The link opens the order form filled in, to check and place.
    query = "&".join(f"{k}={v[0]}" for k, v in link.items())
    form = browser.get(f"/orders/new?{query}").get_data(as_text=True)
    assert f'value="{world["oats"]["gtin"]}"' in form
    assert 'value="24"' in form


def test_the_pairs_policy_and_measured_lead_time(hub, app, admin, world):
    set_planning_settings(
        admin, world["supplier"]["id"], world["distributor"]["id"], {"service_level": "0.5"}
    )
    browser = sign_in(app, world["buyer"], remote_addr="10.14.0.2")
    page = browser.get(f"/orders/suggestions?pair={world['pid']}").get_data(as_text=True)
    assert "50.0 % cycle service level" in page
    assert "18 (3 cases of 6)" in page  # z = 0: S = 30, 18 short
    with pytest.raises(GovernanceError, match="service level"):
        set_planning_settings(
            admin, world["supplier"]["id"], world["distributor"]["id"], {"service_level": "1"}
        )
    set_planning_settings(
        admin, world["supplier"]["id"], world["distributor"]["id"], {"service_level": "0.95"}
    )
    # Two orders received in the quarter: 21 and 14 days from order to receipt.
    for n, (ordered, received) in enumerate((("2026-10-01", "2026-10-22"),
                                             ("2026-10-05", "2026-10-19"))):  # fmt: skip
        po = admin.create_item("purchase_orders", {
            "number": f"PO-lt-{n}", "status": "received", "currency": "USD", "ordered_on": ordered,
            "requested_date": received, "promised_date": received, "partnership": world["pid"],
        })  # fmt: skip
        line = admin.create_item("po_lines", {
            "purchase_order": po["id"], "line_no": 1, "sku": world["oats"]["id"], "qty_ordered": 6,
            "qty_promised": 6, "unit_cost_minor": 250, "partnership": world["pid"],
        })  # fmt: skip
        asn = admin.create_item("shipments", {
            "number": f"ASN-lt-{n}", "status": "received", "ship_date": ordered,
            "received_date": received, "purchase_order": po["id"], "partnership": world["pid"],
        })  # fmt: skip
        admin.create_item("shipment_lines", {
            "shipment": asn["id"], "po_line": line["id"], "qty_shipped": 6, "qty_received": 6,
            "partnership": world["pid"],
        })  # fmt: skip
    token = secrets.token_urlsafe(32)
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    ctx = JobContext(hub=HubClient(hub.url, token=token), job_id="scorecards.compute",
                     run_id=str(uuid.uuid4()), settings={"quarters": 1})  # fmt: skip
    compute_scorecards(ctx)
    page = browser.get(f"/orders/suggestions?pair={world['pid']}").get_data(as_text=True)
    assert "measured over 2026-Q4: 17.5 days" in page
    # LT = 2.5 weeks, sigma_LT = 0.5: SS = 1.6449 * sqrt(2.5 * 48/13 + 100 * 0.25) = 9.62;
    # S = 10 * 3.5 + 9.62 = 44.62; short 32.62: 6 cases = 36, requested in 18 days.
    assert '<td class="n">9.62</td>' in page
    assert '<td class="n">44.62</td>' in page
    assert "36 (6 cases of 6)" in page
    (link,) = order_links(page)
    assert link["requested_date"] == ["2026-12-20"]


def test_an_order_placed_here_since_the_snapshot_counts_as_on_order(app, admin, world):
    """After the last test's measured lead time (S = 44.62): 12 units ordered on 1 Dec,
    after the 30 Nov snapshot, are on order already: position 24, short 20.62, 4 cases."""
    po = admin.create_item("purchase_orders", {
        "number": "PO-placed", "status": "open", "currency": "USD",
        "ordered_on": "2026-12-01", "requested_date": "2026-12-20",
        "ship_to": world["store"]["id"], "partnership": world["pid"],
    })  # fmt: skip
    admin.create_item("po_lines", {
        "purchase_order": po["id"], "line_no": 1, "sku": world["oats"]["id"], "qty_ordered": 12,
        "unit_cost_minor": 250, "partnership": world["pid"],
    })  # fmt: skip
    browser = sign_in(app, world["buyer"], remote_addr="10.14.0.6")
    page = browser.get(f"/orders/suggestions?pair={world['pid']}").get_data(as_text=True)
    assert "(of which 12 ordered here since the snapshot)" in page
    assert "24 (4 cases of 6)" in page
    admin.update_item("purchase_orders", po["id"], {"status": "cancelled"})
    page = browser.get(f"/orders/suggestions?pair={world['pid']}").get_data(as_text=True)
    assert "36 (6 cases of 6)" in page  # a cancelled order is on order no more


def test_the_suggestions_download_as_the_page_shows_them(app, admin, world):
    browser = sign_in(app, world["buyer"], remote_addr="10.14.0.7")
    answer = browser.get(f"/orders/suggestions.xlsx?pair={world['pid']}")
    assert answer.status_code == 200
    data = answer.get_data()
    answer.close()
    rows = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    header, (line,) = rows[0], rows[1:]
    got = dict(zip(header, line, strict=True))
    assert got["GTIN"] == world["oats"]["gtin"]
    assert (got["Safety stock"], got["Base stock"]) == (9.62, 44.62)
    assert (got["Suggested units"], got["Cases"], got["Case pack"]) == (36, 6, 6)
    assert got["Lead time from"].startswith("measured over 2026-Q4")
    entries = admin.read_items(
        "audit_log",
        filter={"_and": [{"action": {"_eq": "export"}}, {"actor": {"_eq": world["buyer"].id}}]},
        fields=["id"],
        limit=-1,
    )
    assert len(entries) == 1  # audited like every download
    rival = sign_in(app, world["rival"], remote_addr="10.14.0.8")
    assert rival.get(f"/orders/suggestions.xlsx?pair={world['pid']}").status_code == 403
    assert browser.get("/orders/suggestions.xlsx").status_code == 403  # which supplier?


def test_nobody_else_reads_a_distributors_suggestions(app, world):
    seller = sign_in(app, world["seller"], remote_addr="10.14.0.3")
    assert seller.get("/orders/suggestions").status_code == 403
    rival = sign_in(app, world["rival"], remote_addr="10.14.0.4")
    # A pair not its own is refused (and the denial audited), whether it exists or not.
    assert rival.get(f"/orders/suggestions?pair={world['pid']}").status_code == 403
    own = rival.get("/orders/suggestions").get_data(as_text=True)  # its own pair with S
    assert world["store"]["name"] not in own
    buyer = sign_in(app, world["buyer"], remote_addr="10.14.0.5")
    assert buyer.get(f"/orders/suggestions?pair={world['foreign_pair']}").status_code == 403
    assert buyer.get("/orders/suggestions?pair=999999").status_code == 403
