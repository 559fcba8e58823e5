"""The ownership table (domain/ownership.py) and the portal's writes that read it.

The hub's side of the same table is tested through the hub's REST API with each role's
own login, in tests/test_access_matrix.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain import ownership
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.data import writes
from portal.data.errors import Conflict

S, D, M = SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER


def refused(role: str, collection: str, gate: str | None, **changes: object) -> dict[str, str]:
    """Why ``role`` may not make these changes to a record whose gate status is ``gate``."""
    return ownership.update_refusals(role, collection, gate, changes)


def test_the_issues_examples_are_refused_by_the_table():
    """Issue 11, part 3: what each side could do through the hub before the table."""
    assert "received_date" in refused(S, "shipments", "shipped", received_date="2026-10-12")
    assert "qty_received" in refused(S, "shipment_lines", "shipped", qty_received=7)
    assert "status" in refused(S, "invoices", "open", status="paid")
    assert "status" in refused(D, "promotions", "accepted", status="draft")
    assert "name" in refused(D, "promotions", "accepted", name="renamed")
    assert "promotion" in ownership.create_refusals(
        D, "promotion_skus", "accepted", ["sku", "promotion", "partnership"]
    )
    assert "partnership" in refused(D, "promotions", "submitted", partnership=2)
    for status in ("acknowledged", "shipped"):
        assert "status" in refused(D, "purchase_orders", "open", status=status)
    for collection in ("business_plans", "scorecards"):
        status = ownership.TABLE[collection].initial
        assert "partnership" in refused(M, collection, status, partnership=2)


def test_each_owner_still_does_its_job():
    assert not refused(D, "shipments", "shipped", received_date="2026-10-12", status="received")
    assert not refused(D, "invoices", "open", status="paid")
    assert not refused(S, "promotions", "submitted", status="accepted", supplier_comment="ok")
    assert not refused(D, "promotions", "declined", name="renamed", status="submitted")
    assert not refused(S, "purchase_orders", "open", status="acknowledged", promised_date="x")
    assert not refused(M, "business_plans", "draft", sponsors="CEO", status="active")


@pytest.mark.parametrize("collection", sorted(ownership.TABLE))
def test_no_role_ever_changes_a_partnership(collection):
    rules = ownership.TABLE[collection]
    statuses = rules.statuses or (None,)
    for role in ownership.PARTIES:
        for status in statuses:
            assert "partnership" in refused(role, collection, status, partnership=1)
        assert all("partnership" not in f for g in rules.update.get(role, ()) for f in g.fields)


@pytest.mark.parametrize("collection", sorted(ownership.TABLE))
def test_the_table_names_only_statuses_its_collection_has(collection):
    rules = ownership.TABLE[collection]
    gate = rules.statuses or (ownership.TABLE[rules.parent[1]].statuses if rules.parent else ())
    named = {s for m in rules.moves.values() for old, new in m.items() for s in {old, *new}}
    named |= {s for gs in rules.update.values() for g in gs for s in g.when or ()}
    named |= {s for g in rules.create.values() for s in g.when or ()}
    named |= {s for w in rules.delete.values() for s in w or ()}
    assert named <= set(gate)
    if rules.status:
        assert rules.initial in rules.statuses
    assert not (rules.status and rules.parent), "a record is gated by one status"


def test_every_pair_bound_collection_has_an_owner():
    """Each pair-bound collection (PAIR_BOUND in migrations/0003_governance.py) is in the
    table, so the hook has a rule for every record of a pair."""
    pair_bound = {
        "promotions", "promotion_skus", "promotion_locations", "promotion_events",
        "purchase_orders", "po_lines", "shipments", "shipment_lines", "invoices",
        "invoice_lines", "business_plans", "plan_revisions", "plan_actions", "risks",
        "scorecards", "scorecard_values", "commitments", "exceptions", "exception_events",
    }  # fmt: skip
    assert set(ownership.TABLE) == pair_bound


def test_the_portal_reads_its_promotion_moves_from_the_table():
    for status in ownership.PROMOTION_STATUSES:
        allowed = writes.DISTRIBUTOR_PROMOTION_MOVES[status]
        for new in ownership.PROMOTION_STATUSES:
            assert (new in allowed) == ownership.may_move(D, "promotions", status, new)
    assert ownership.writable_in(D, "promotions", "name") == writes.PROMOTION_TERMS_OPEN


@dataclass
class _Actor:
    role: str
    id: str = "u"
    organization_id: int | None = 1


@dataclass
class _Access:
    actor: _Actor


def test_a_portal_write_the_table_refuses_is_a_conflict_naming_the_field():
    acc = _Access(_Actor(D))
    with pytest.raises(Conflict) as refusal:
        writes.check_update(acc, "promotions", "accepted", {"status": "draft", "name": "x"})  # type: ignore[arg-type]
    assert set(refusal.value.errors) == {"status", "name"}
    with pytest.raises(Conflict) as refusal:
        writes.check_create(acc, "promotion_skus", "accepted", {"sku": 1, "promotion": 2})  # type: ignore[arg-type]
    assert set(refusal.value.errors) == {"promotion"}
    writes.check_update(acc, "promotions", "submitted", {"status": "cancelled"})  # type: ignore[arg-type]
