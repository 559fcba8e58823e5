"""Each feed's cadence: set on the feed, or learned from its deliveries.

- ``feeds.cadence_days``: the days between the feed's deliveries, as its distributor (or
  an operator) sets it; empty unless set. A distributor changes only this field, and only
  on its own feeds, to a whole number of days from 1 to 366.
- ``feeds.cadence_learned``: the cadence the bulk lane learns from the feed's deliveries
  (:func:`domain.ingest.learn_cadence`), written in the same transaction as the feed's
  freshness; nobody but the lane writes it.

Staleness then follows the cadence (:func:`domain.ingest.feed_staleness`): a feed is
expected a cadence after its data-through date and stale after a grace period.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_field, ensure_permission, ensure_policy, field

DISTRIBUTOR = "Tandem distributor user"
OWN = {"distributor": {"_eq": "$CURRENT_USER.organization.id"}}
IN_RANGE = {
    "_or": [
        {"cadence_days": {"_null": True}},
        {"_and": [{"cadence_days": {"_gte": 1}}, {"cadence_days": {"_lte": 366}}]},
    ]
}


def upgrade(hub: HubClient) -> None:
    ensure_field(hub, "feeds", field("cadence_days", "integer"))
    ensure_field(hub, "feeds", field("cadence_learned", "integer"))
    distributor = ensure_policy(hub, DISTRIBUTOR)
    ensure_permission(
        hub, distributor, "feeds", "update", fields=["cadence_days"], permissions=OWN,
        validation=IN_RANGE,
    )  # fmt: skip
