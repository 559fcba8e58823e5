"""Partners' journeys through the portal in a real browser, as they would click them.

A supplier reads its sell-through (only its own data, the chart drawn, filters and
drill-down); a distributor uploads a POS file with bad rows and downloads the rejects,
then proposes promotions through the Excel round trip; the supplier accepts one. The
promotion journeys run in this order: the supplier answers the promotion the distributor
submitted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from domain.gs1 import with_check_digit
from tests.browser.conftest import Partners
from tests.factories import Member


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never got the focus in {limit} presses of Tab")


def sign_in(page: Page, member: Member) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(member.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_contain_text(member.organization["name"])


def test_supplier_sees_only_its_own_sell_through_with_a_chart_filters_and_drill_down(
    page: Page, partners: Partners
) -> None:
    p = partners
    # Signing in with the keyboard alone: the email box has the focus on arrival.
    page.goto("/login")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(p.acme_user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(p.acme_user.password)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#signed-in-as")).to_contain_text(p.orgs["acme"]["name"])

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell-through").click()
    expect(page).to_have_url(re.compile(r"/sell-through$"))
    breakdown = page.locator("#breakdown")
    for sku in ("oats", "bran"):
        expect(breakdown).to_contain_text(p.skus[sku]["description"])
    expect(page.locator("#figures")).to_contain_text(f"{p.units('oats') + p.units('bran'):,}")
    # Nothing sold in the weeks before the range: both SKUs are new this period, no rise.
    expect(page.locator("#movers-new")).to_contain_text(p.skus["oats"]["description"])
    oats_row = breakdown.locator("tbody tr", has_text=p.skus["oats"]["description"])
    expect(oats_row).to_contain_text("new this period")
    html = page.content()
    for stranger in (
        p.skus["cola"]["description"],  # brava's SKU, sold at north too
        p.orgs["brava"]["name"],
        p.orgs["south"]["name"],  # shares nothing with acme
        p.stores["south-S1"]["name"],
    ):
        assert stranger not in html, f"{stranger!r} is on acme's sell-through page"

    chart = page.locator("#trend svg.chart")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title#chart-title")).to_have_text(re.compile(r"\S"))
    expect(chart.locator("path.line")).to_have_attribute("d", re.compile(r"^M[\d.]+,[\d.]+ L"))

    # A filter changed with the keyboard: reach the SKU picker, type part of the SKU's
    # GTIN, Enter on the match, Enter on Apply.
    sku_box = page.get_by_role("combobox", name="SKU", exact=True)
    tab_to(page, sku_box)
    page.keyboard.type(p.skus["oats"]["gtin"][-6:])
    expect(
        page.get_by_role("option", name=re.compile(p.skus["oats"]["description"]))
    ).to_be_visible()
    page.keyboard.press("Enter")
    expect(sku_box).to_have_value(re.compile(re.escape(p.skus["oats"]["description"])))
    expect(page.locator("select[name=sku]")).to_have_value(str(p.skus["oats"]["id"]))
    apply = page.get_by_role("button", name="Apply")
    tab_to(page, apply)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"[?&]sku={p.skus['oats']['id']}(&|$)"))
    expect(page.locator("#figures")).to_contain_text(f"{p.units('oats'):,}")
    expect(page.get_by_role("navigation", name="Drill-down")).to_contain_text(
        p.skus["oats"]["description"]
    )

    # Drill-down: from all SKUs, a SKU's row opens its locations.
    page.get_by_role("navigation", name="Drill-down").get_by_role("link", name="All SKUs").click()
    expect(page).not_to_have_url(re.compile(r"sku="))
    breakdown.get_by_role("link", name=p.skus["bran"]["description"]).click()
    expect(page).to_have_url(re.compile(rf"[?&]sku={p.skus['bran']['id']}(&|$)"))
    expect(breakdown.locator("thead")).to_contain_text("Location")
    for store in ("north-S1", "north-S2"):
        row = breakdown.locator("tbody tr", has_text=p.stores[store]["name"])
        expect(row.locator("td").first).to_have_text(f"{p.units('bran', store):,}")
    expect(page.locator("#figures")).to_contain_text(f"{p.units('bran'):,}")


GOOD_DAYS = 60  # days of sales in the file, for each item at each store
WATCH_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const area = document.getElementById("progress");
  if (!area) return;
  const doc = Math.random().toString(36).slice(2);
  const text = (id) => document.getElementById(id).textContent.trim();
  new MutationObserver(() => {
    const log = JSON.parse(sessionStorage.getItem("progress-log") || "[]");
    log.push({doc, status: text("progress-status"), rows: text("progress-rows")});
    sessionStorage.setItem("progress-log", JSON.stringify(log));
  }).observe(area, {childList: true, subtree: true, characterData: true});
});
"""


def _pos_file() -> tuple[str, int]:
    """A POS CSV with good rows then two bad ones; the bad ones' line numbers."""
    lines = ["item,store,date,units,net_sales"]
    first = dt.date(2025, 1, 6)
    for n in range(GOOD_DAYS):
        day = (first + dt.timedelta(days=n)).isoformat()
        lines += [f"{item},{store},{day},2,5.00" for item in ("A1", "A2") for store in ("S1", "S2")]
    bad_item = len(lines) + 1  # line numbers count the header as line 1
    lines += ["ZZ,S1,2025-03-03,1,1.00", "A1,S1,not-a-date,1,1.00"]
    return "\n".join(lines) + "\n", bad_item


def test_distributor_uploads_pos_follows_the_import_and_downloads_the_rejects(
    page: Page, partners: Partners
) -> None:
    text, bad_line = _pos_file()
    good = 4 * GOOD_DAYS
    sign_in(page, partners.north_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data uploads").click()
    page.get_by_label("File (CSV, Excel, X12 852, 846 or 830, or EDIFACT)").set_input_files(
        {"name": "pos.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    page.get_by_label("Data kind").select_option("pos")
    # The import runs in another process. Its page polls for the progress and writes it
    # into the page; once done, the script reloads the page to show the result. This
    # observer logs each write (surviving that reload in sessionStorage) with an id of the
    # document it happened in.
    page.add_init_script(WATCH_PROGRESS)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page).to_have_url(re.compile(r"/uploads/\d+$"))
    expect(page.locator("#result-read")).to_have_text(f"{good + 2:,}", timeout=90_000)
    expect(page.locator("#result-new")).to_have_text(f"{good:,}")
    expect(page.locator("#result-rejected")).to_have_text("2")
    log = json.loads(page.evaluate("sessionStorage.getItem('progress-log') || '[]'"))
    assert log, "the import's progress area was never updated in place"
    assert len({entry["doc"] for entry in log}) == 1, log  # no reload while it ran
    assert (log[-1]["status"], log[-1]["rows"]) == ("done", f"{good + 2:,}"), log
    assert page.evaluate("performance.getEntriesByType('navigation')[0].type") == "reload"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejects").click()
    rejects = Path(download.value.path()).read_text().splitlines()
    assert [line.split(",")[:2] for line in rejects[1:]] == [
        [str(bad_line), "item"],
        [str(bad_line + 1), "day"],
    ], rejects


def test_distributor_fixes_a_promotions_workbook_by_its_preview_and_submits_it(
    page: Page, partners: Partners, tmp_path: Path
) -> None:
    p = partners
    sign_in(page, p.north_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Promotions").click()
    page.get_by_role("link", name="Upload a workbook").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel template").click()
    workbook = tmp_path / "promotions.xlsx"
    download.value.save_as(workbook)

    book = load_workbook(workbook)
    lists = book["Lists"]
    listed = {str(c.value) for row in lists.iter_rows() for c in row if c.value is not None}
    oats, bran = p.skus["oats"]["gtin"], p.skus["bran"]["gtin"]
    assert {p.orgs["acme"]["name"], oats, bran, "S1", "S2"} <= listed
    assert p.orgs["south"]["name"] not in listed  # north's template: north's partners only
    name = f"Harvest week {p.tag}"
    start, end = p.today + dt.timedelta(days=28), p.today + dt.timedelta(days=34)
    unknown = with_check_digit("9" + "0" * 11 + "1")
    sheet = book["Promotions"]
    row = {column.value: column.column for column in sheet[1]}

    def fill(number: int, **values: object) -> None:
        for column, value in values.items():
            sheet.cell(row=number, column=row[column], value=value)

    acme = p.orgs["acme"]["name"]
    fill(
        2,
        partner=acme,
        name=name,
        type="tpr",
        start_date=start,
        end_date=end,
        expected_uplift_pct=15,
        mechanics="20% off",
        sku_gtin=unknown,
        location_code="S1",
    )
    reversed_end = (start - dt.timedelta(days=3)).isoformat()  # dates as text work too
    fill(3, partner=acme, name=name, type="tpr", start_date=start.isoformat(),
         end_date=reversed_end, sku_gtin=bran, location_code="S2")  # fmt: skip
    book.save(workbook)

    page.get_by_label("Workbook (.xlsx)").set_input_files(workbook)
    page.get_by_role("button", name="Upload and preview").click()
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(page.locator("#upload-error")).to_contain_text("2 errors")
    expect(preview.locator("td.error")).to_have_count(2)
    expect(preview.locator("#row-2 td.error[data-field='sku_gtin']")).to_contain_text("unknown SKU")
    expect(preview.locator("#row-3 td.error[data-field='end_date']")).to_contain_text(
        "before the start date"
    )
    expect(page.locator("#upload-errors")).to_contain_text("Row 2, sku_gtin")
    expect(page.locator("#upload-errors")).to_contain_text("Row 3, end_date")
    expect(page.get_by_role("button", name="Submit promotions")).to_have_count(0)

    fill(2, sku_gtin=oats)
    fill(3, end_date=end.isoformat())
    book.save(workbook)
    page.get_by_label("Workbook (.xlsx)").set_input_files(workbook)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("#upload-message")).to_contain_text("No errors: 1 promotion from 2 rows")
    expect(preview.locator("td.error")).to_have_count(0)
    expect(preview.locator("tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Submit promotions").click()

    expect(page.locator(".flash")).to_contain_text("1 promotion submitted")
    listed_row = page.locator("#promotions tbody tr", has_text=name)
    expect(listed_row).to_have_count(1)
    expect(listed_row).to_contain_text("Submitted, awaiting the supplier")
    p.state["promotion"] = name


def test_supplier_accepts_the_submitted_promotion_with_a_comment_and_its_history_shows_it(
    page: Page, partners: Partners
) -> None:
    p = partners
    name = p.state.get("promotion")
    if name is None:
        pytest.fail("the workbook journey did not submit the promotion this journey answers")
    sign_in(page, p.acme_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Promotions").click()
    page.locator("#awaiting").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator("#promotion-status")).to_have_text("Submitted, awaiting the supplier")
    skus = page.locator("#promotion-skus")
    for sku in ("oats", "bran"):
        expect(skus).to_contain_text(p.skus[sku]["description"])

    # Keyboard only: Tab to the answer form's first control, write, Tab, Enter on Accept.
    comment = f"Stock is booked for {p.tag}."
    box = page.get_by_label("Comment (required to decline)")
    tab_to(page, box)
    page.keyboard.type(comment)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Accept")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("#promotion-status")).to_have_text("Accepted")
    expect(page.locator("#supplier-comment")).to_have_text(comment)
    accepted = page.locator("#history tbody tr", has_text="Accepted")
    expect(accepted).to_have_count(1)
    expect(accepted).to_contain_text(comment)
    expect(accepted).to_contain_text("You (")
    expect(page.locator("#history tbody tr").first).to_contain_text("Submitted")
    expect(page.get_by_role("button", name="Accept")).to_have_count(0)
