"""Forecasts, like POS and inventory rows, are written only by the bulk lane.

Distributors lose REST writes (create, update, delete) on ``forecasts``: a forecast
arrives through ``tandem import forecasts``, an upload, a drop folder or an 830 by EDI,
where the validator refuses a week inside the SKU's lead time (frozen) and the lane
makes each row's key from the import's own distributor. Through REST a distributor
could change a frozen week, or plant a row under another distributor's key, which that
distributor's next import would then refuse (``ForeignRow``). Distributors still read
their rows; suppliers still write their commitment fields through their share policy.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_policy, remove_permission

DISTRIBUTOR = "Tandem distributor user"


def upgrade(hub: HubClient) -> None:
    distributor = ensure_policy(hub, DISTRIBUTOR)
    for action in ("create", "update", "delete"):
        remove_permission(hub, distributor, "forecasts", action)
