"""What the scorecard job reads to score a pair's sell-through, weeks of supply,
in-stock and promotions: the sharing agreements in force, the weekly POS rollups, store
stock, and the pair's promotions with their SKUs and stores, read only.

The job keeps to what each agreement shares with the pair's supplier (its filters are
``domain.sharing``'s, as the supplier's own policy is); the sync service reads these
fields so that it can apply them. It writes none of them.
"""

from __future__ import annotations

from directus import HubClient
from domain.sharing import AGREEMENT_FIELDS
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import ensure_permission, ensure_policy

ROLLUP = ["id", "distributor", "sku", "week_start", "week_end", "units"]

#: What the job reads, by collection (skus widens 0018's read).
READS = {
    "share_agreements": AGREEMENT_FIELDS,
    "pos_week_distributor": ROLLUP,
    "pos_week_location": [*ROLLUP, "location"],
    "inventory_positions": ["id", "distributor", "location", "sku", "day", "on_hand"],
    "locations": ["id", "distributor", "kind", "region"],
    "skus": ["id", "case_pack", "supplier"],
    "promotions": ["id", "partnership", "status", "start_date", "end_date", "expected_uplift_pct"],
    "promotion_skus": ["id", "promotion", "sku"],
    "promotion_locations": ["id", "promotion", "location"],
}


def upgrade(hub: HubClient) -> None:
    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    for collection, fields in READS.items():
        ensure_permission(hub, sync, collection, "read", fields=fields)
