"""Fixtures for the browser journeys: a live portal, partners with data, and Chromium.

The portal runs for real (werkzeug's server, in a thread, on a free port of 127.0.0.1)
over the session's hub, with the bulk lane and a spool folder so uploads work. Playwright
drives Debian's chromium: Playwright's own browser download cannot work here. Each test
gets a fresh browser context at a laptop's size; a full-page screenshot of where it ended
is saved to ``artifacts/screenshots/<test>.png``, pass or fail, and a test whose page
logged a JavaScript error fails.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright
from werkzeug.serving import make_server

from directus import HubClient
from directus.bulk import open_lane, write_rows
from domain import clock
from governance import sharing
from governance.partners import ensure_partnership
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal import Config, create_app
from tests.factories import Member, gtin_under, make_org, make_user
from tests.helpers import RunningHub

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
#: The outermost elements that stick out past the window's right edge, to name in a failure.
_SIDEWAYS = """() => {
  const edge = window.innerWidth + 1, out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right <= edge) continue;
    let parent = el.parentElement;
    while (parent && parent.getBoundingClientRect().right <= edge) parent = parent.parentElement;
    if (!parent || parent === document.body) out.push(`${el.tagName}#${el.id}.${el.className}`);
  }
  return out;
}"""
JS_ERRORS = pytest.StashKey[list[str]]()

# A page on a loaded two-core machine (a report, an import) may take seconds, not ms.
expect.set_options(timeout=20_000)


# -- the portal, served for real ------------------------------------------------------------


@dataclass(frozen=True)
class LivePortal:
    url: str
    spool_dir: Path


@pytest.fixture(scope="module")
def live_portal(
    hub: RunningHub, portal_auth_token: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LivePortal]:
    """The portal on the session's hub, served over HTTP on 127.0.0.1 for the module.

    Built as the ``make_portal`` fixture builds it; that one is per test, and a server
    per test would restart for every journey.
    """
    set_service_token(hub.admin(), PORTAL_AUTH_EMAIL, portal_auth_token)
    spool = tmp_path_factory.mktemp("browser-spool")
    config = Config(
        secret_key=secrets.token_urlsafe(48),
        hub_url=hub.url,
        portal_auth_token=portal_auth_token,
        hub_db_url=hub.lane_url,
        spool_dir=spool,
    )
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-portal", daemon=True)
    thread.start()
    try:
        yield LivePortal(f"http://127.0.0.1:{server.server_port}", spool)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# -- partners and their data ----------------------------------------------------------------


@dataclass
class Partners:
    """Two suppliers and two distributors, with sales the suppliers may or may not see.

    acme (the supplier under test) and brava both work with north; only brava works with
    south. north shares POS and inventory with acme and POS with brava; south shares POS
    with brava. So acme must see its own SKUs at north, and nothing of brava's SKU (sold
    at north too) or of south.
    """

    tag: str
    today: dt.date
    orgs: dict[str, dict[str, Any]]
    skus: dict[str, dict[str, Any]]  # oats, bran (acme's), cola (brava's)
    stores: dict[str, dict[str, Any]]  # north-S1, north-S2, south-S1
    acme_user: Member
    north_user: Member
    weekly_units: dict[tuple[str, str], list[int]]  # (sku, store) -> units per week
    state: dict[str, Any] = field(default_factory=dict)  # what one journey leaves the next

    def units(self, sku: str, store: str | None = None) -> int:
        """Units sold in the default range (the data's eight weeks all fall in it)."""
        return sum(
            sum(units)
            for (s, place), units in self.weekly_units.items()
            if s == sku and (store is None or place == store)
        )


def _sku(admin: HubClient, supplier: dict[str, Any], description: str) -> dict[str, Any]:
    return admin.create_item(
        "skus",
        {
            "gtin": gtin_under(supplier["gs1_prefixes"][0]),
            "description": description,
            "cost_minor": 100,
            "list_price_minor": 250,
            "currency": "USD",
            "supplier": supplier["id"],
        },
    )


def _item_code(admin: HubClient, distributor: dict[str, Any], sku: dict[str, Any], code: str):
    admin.create_item(
        "sku_codes",
        {"id": f"{distributor['id']}:{code}", "item_code": code, "sku": sku["id"],
         "distributor": distributor["id"]},
    )  # fmt: skip


def _store(
    admin: HubClient, distributor: dict[str, Any], code: str, name: str, region: str
) -> dict[str, Any]:
    return admin.create_item(
        "locations",
        {
            "ref": f"{distributor['id']}:{code}",
            "code": code,
            "name": name,
            "kind": "store",
            "region": region,
            "distributor": distributor["id"],
        },
    )


@pytest.fixture(scope="module")
def partners(hub: RunningHub, admin: HubClient) -> Partners:
    """The module's partners, with eight weeks of POS (in the default report range)."""
    tag = secrets.token_hex(3)
    today = clock.today()  # the weeks below are placed from it: any weekday will do
    orgs = {
        key: make_org(admin, kind, name=f"{key.title()} {tag}")
        for key, kind in (
            ("acme", "supplier"),
            ("brava", "supplier"),
            ("north", "distributor"),
            ("south", "distributor"),
        )
    }
    for supplier, distributor in (("acme", "north"), ("brava", "north"), ("brava", "south")):
        ensure_partnership(admin, orgs[supplier]["id"], orgs[distributor]["id"])
    since = today - dt.timedelta(days=200)
    for grantor, grantee, kinds in (
        ("north", "acme", ["pos", "inventory"]),
        ("north", "brava", ["pos"]),
        ("south", "brava", ["pos"]),
    ):
        sharing.grant(
            admin, orgs[grantor]["id"], orgs[grantee]["id"], kinds, valid_from=since, via="test"
        )
    skus = {
        "oats": _sku(admin, orgs["acme"], f"Acme Oats {tag}"),
        "bran": _sku(admin, orgs["acme"], f"Acme Bran {tag}"),
        "cola": _sku(admin, orgs["brava"], f"Brava Cola {tag}"),
    }
    for code, sku in (("A1", "oats"), ("A2", "bran"), ("B1", "cola")):
        _item_code(admin, orgs["north"], skus[sku], code)
    _item_code(admin, orgs["south"], skus["cola"], "B1")
    stores = {
        "north-S1": _store(admin, orgs["north"], "S1", f"North Main St {tag}", "west"),
        "north-S2": _store(admin, orgs["north"], "S2", f"North Harbour {tag}", "east"),
        "south-S1": _store(admin, orgs["south"], "S1", f"South Plaza {tag}", "west"),
    }
    weeks = 8
    weekly_units = {
        ("oats", "north-S1"): [10 + i for i in range(weeks)],
        ("oats", "north-S2"): [5 + i for i in range(weeks)],
        ("bran", "north-S1"): [3] * weeks,
        ("bran", "north-S2"): [4] * weeks,
        ("cola", "north-S1"): [7] * weeks,
        ("cola", "south-S1"): [9] * weeks,
    }
    this_monday = today - dt.timedelta(days=today.weekday())
    pos, stock = [], []
    for (sku, store), units in weekly_units.items():
        owner = orgs[store.split("-")[0]]["id"]
        where = stores[store]["id"]
        for i, n in enumerate(units):
            wednesday = this_monday - dt.timedelta(weeks=weeks - i) + dt.timedelta(days=2)
            pos.append((owner, where, skus[sku]["id"], wednesday, n, n * 250, "USD"))
        stock.append((owner, where, skus[sku]["id"], this_monday - dt.timedelta(days=1), 40, 5, 10))
    # Through the bulk lane, as distributors' files arrive: it keeps the weekly rollups.
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", stock)
    return Partners(
        tag=tag,
        today=today,
        orgs=orgs,
        skus=skus,
        stores=stores,
        acme_user=make_user(admin, "supplier_user", orgs["acme"]),
        north_user=make_user(admin, "distributor_user", orgs["north"]),
        weekly_units=weekly_units,
    )


# -- Chromium ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Debian chromium per module."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does it)")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(
    browser: Browser, live_portal: LivePortal, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh context (no cookies) at a laptop's size, on the live portal."""
    context = browser.new_context(viewport=LAPTOP, base_url=live_portal.url, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    # Chromium logs "Failed to load resource" for a page the portal answers with 4xx on
    # purpose (a preview with errors is a 422): no script's error. A missing stylesheet,
    # script or icon still is.
    refused_documents: set[str] = set()
    page.on("pageerror", lambda exc: errors.append(f"uncaught exception: {exc}"))
    page.on(
        "response",
        lambda r: (
            refused_documents.add(r.url)
            if r.request.resource_type == "document" and r.status >= 400
            else None
        ),
    )

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and where in refused_documents:
            return
        errors.append(f"console error at {where}: {message.text}")

    page.on("console", on_console)
    request.node.stash[JS_ERRORS] = errors
    try:
        yield page
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
        finally:
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Fail a test that otherwise passed if its page logged a JavaScript error."""
    result = yield
    errors = item.stash.get(JS_ERRORS, [])
    if errors:
        raise AssertionError("the page logged JavaScript errors:\n" + "\n".join(errors))
    return result


#: Whether some part of an element, outside a box that scrolls, passes the screen's edge.
_REGION_SIDEWAYS = """e => [e, ...e.querySelectorAll('*')].some(x => !x.closest('.table-scroll')
    && x.getBoundingClientRect().right > window.innerWidth + 1)"""


def reads_at_both_widths(page: Page, name: str, region: str | None = None) -> None:
    """The page at a laptop's width and at a phone's: it never scrolls sideways (a wide
    table scrolls inside its own box), with a screenshot of each as ``<name>-<width>.png``.
    With ``region`` (a selector), only that part of the page is held to it: the rest is
    another journey's."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, size in (("1366", LAPTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        if region is None:
            wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        else:
            wide = page.locator(region).evaluate(_REGION_SIDEWAYS)
        assert not wide, f"{name} scrolls sideways at {width} px: {page.evaluate(_SIDEWAYS)}"
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size(LAPTOP)
