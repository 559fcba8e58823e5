"""Inventory positions, like POS rows, are written only by the bulk lane.

Distributors lose REST writes (create, update, delete) on ``inventory_positions``: an
inventory file arrives through ``tandem import``, an upload or a drop folder, and the
lane makes each row's key from the import's own distributor. Through REST a partner
could plant a row under another distributor's key, which that distributor's next import
would then fill with its figures. The integrity extension refuses such writes from
anyone (``LANE_ONLY``); this migration takes the permissions away so the refusal is
the policies' own 403 too. Distributors still read their rows.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_policy, remove_permission

DISTRIBUTOR = "Tandem distributor user"


def upgrade(hub: HubClient) -> None:
    distributor = ensure_policy(hub, DISTRIBUTOR)
    for action in ("create", "update", "delete"):
        remove_permission(hub, distributor, "inventory_positions", action)
