"""Real-world X12 reports through the bulk lane into a real hub (issue 11, part 7).

No public 852 or 846 exists (../shared/notes/edi.md): the documents here are written from
the 004010 standard. A weekly 852 lands on its week's last day and a restated week
replaces it; an 846 that names no location lands at the distributor's one DC, and with
two DCs lands nothing and names the N1 to add.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from directus.bulk import open_lane
from domain.ingest import FileError
from ingest.pipeline import ImportResult, run_import
from tests.factories import make_pair, make_sku, make_store
from tests.helpers import RunningHub

ISA = (
    "ISA*00*          *00*          *ZZ*DIST           *ZZ*SUPP           "
    "*260315*0600*U*00401*000000001*0*P*>~"
)


def x12_file(code: str, body: str) -> str:
    """One interchange, one group, one transaction set, from body segments one a line."""
    segments = [s for s in body.split("\n") if s.strip()]
    group = "PD" if code == "852" else "IB"
    return (
        f"{ISA}\nGS*{group}*DIST*SUPP*20260315*0600*1*X*004010~\nST*{code}*0001~\n"
        + "".join(f"{s}~\n" for s in segments)
        + f"SE*{len(segments) + 2}*0001~\nGE*1*1~\nIEA*1*000000001~\n"
    )


@dataclass
class World:
    distributor: dict[str, Any]
    skus: dict[str, int]  # item code -> SKU id
    places: dict[str, int]  # location code -> location id
    hub: RunningHub

    @property
    def d(self) -> int:
        return int(self.distributor["id"])

    def run(self, tmp_path: Path, name: str, text: str, kind: str = "pos") -> ImportResult:
        path = tmp_path / name
        path.write_text(text, encoding="latin-1")
        with open_lane(self.hub.lane_url) as lane:
            return run_import(lane, path, distributor=self.d, kind=kind)

    def stored(
        self, table: str, columns: str, day: str = "day"
    ) -> dict[tuple[str, str, str], tuple[Any, ...]]:
        """(location code, item code, ISO ``day``) -> the columns, for this distributor."""
        codes = {v: k for k, v in self.places.items()}
        items = {v: k for k, v in self.skus.items()}
        rows = self.hub.sql(
            f"SELECT location, sku, {day}, {columns} FROM {table} WHERE distributor = ?",  # noqa: S608
            self.d,
        )
        return {(codes[r[0]], items[r[1]], _iso(r[2])): tuple(r[3:]) for r in rows}


def _iso(stored: int) -> str:
    """A day as Directus stores it in SQLite (epoch milliseconds), in ISO form."""
    return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=stored)).date().isoformat()


def _dc(admin: Any, distributor: dict[str, Any], code: str) -> dict[str, Any]:
    return admin.create_item(
        "locations",
        {"code": code, "name": f"DC {code}", "kind": "dc", "distributor": distributor["id"]},
    )


@pytest.fixture
def world(hub, admin) -> World:
    supplier, distributor, _pair = make_pair(admin)
    skus = {code: make_sku(admin, supplier, distributor, code)["id"] for code in ("A1", "A2")}
    places = {c: make_store(admin, distributor, c)["id"] for c in ("0001", "0002", "0003")}
    places["DC1"] = _dc(admin, distributor, "DC1")["id"]
    return World(distributor, skus, places, hub)


# Sunday 8 to Saturday 14 March 2026: the chain names itself by D-U-N-S+4 and its stores
# in the SDQ pairs; consumer returns (QU) net against sales (QS); QA (on hand) is no sale.
WEEK = """XQ*H*20260308*20260314
N1*RL*Corner Markets*9*0123456780001
LIN**IN*A1
CTP**RES*2.50
ZA*QS
SDQ*EA*92*0001*12*0002*-2*0003*5
ZA*QU
SDQ*EA*92*0001*1
ZA*QA
SDQ*EA*92*0001*40
LIN**IN*A2
CTP**RES*4
ZA*QS
SDQ*EA*92*0002*3
CTT*2"""


def test_a_weekly_852_lands_on_its_last_day_and_a_restated_week_replaces_it(world, tmp_path):
    first = world.run(tmp_path, "week.x12", x12_file("852", WEEK))
    assert (first.rows_read, first.rows_rejected, first.new) == (4, 0, 4)
    assert world.stored("pos_sales", "units, net_sales_minor") == {
        ("0001", "A1", "2026-03-14"): (11, 2750),
        ("0002", "A1", "2026-03-14"): (-2, -500),
        ("0003", "A1", "2026-03-14"): (5, 1250),
        ("0002", "A2", "2026-03-14"): (3, 1200),
    }
    restated = WEEK.replace("*0001*12*0002*-2*0003*5", "*0001*9*0002*-2*0003*5")
    again = world.run(tmp_path, "restated.x12", x12_file("852", restated))
    assert (again.new, again.changed, again.unchanged) == (0, 1, 3)
    stored = world.stored("pos_sales", "units, net_sales_minor")
    assert len(stored) == 4
    assert stored[("0001", "A1", "2026-03-14")] == (8, 2000)
    # The week's rollup (ISO 2026-W11, 9-15 March) holds the restated figures once.
    week = world.stored("pos_week_location", "units", day="week_start")
    assert week[("0001", "A1", "2026-03-09")] == (8,)


STOCK = """BIA*00*DD*INV-7*20260315
N1*SU*Acme Supply*9*0987654320001
LIN*1*IN*A1
QTY*17*30*EA
QTY*63*12*EA
LIN*2*IN*A2
QTY*33*4*EA
CTT*2"""


def test_an_846_with_no_location_lands_at_the_distributors_one_dc(world, tmp_path):
    result = world.run(tmp_path, "stock.x12", x12_file("846", STOCK), kind="inventory")
    assert (result.rows_read, result.rows_rejected, result.new) == (2, 0, 2)
    assert world.stored("inventory_positions", "on_hand, on_order") == {
        ("DC1", "A1", "2026-03-15"): (30, 12),
        ("DC1", "A2", "2026-03-15"): (4, 0),
    }


def test_an_846_with_no_location_and_two_dcs_lands_nothing_and_names_the_n1(admin, world, tmp_path):
    _dc(admin, world.distributor, "DC2")
    with pytest.raises(FileError) as caught:
        world.run(tmp_path, "stock.x12", x12_file("846", STOCK), kind="inventory")
    assert str(caught.value) == (
        "line 7: QTY*17 has no location in scope: no N1*RL or N1*WH names one, and the "
        "distributor has 2 DCs (DC1, DC2), so the 846 must say which: add N1*WH**92*<DC code> "
        "(or N1*RL, or N103 UL and the GLN) to the heading or the LIN loop"
    )
    assert world.stored("inventory_positions", "on_hand") == {}
