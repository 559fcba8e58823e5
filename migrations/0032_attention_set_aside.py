"""Attention items a user set aside: dismissed, or snoozed for a while.

- ``attention_set_aside``: one row per user and item (``item_key``, the item's kind and
  record, :func:`domain.attention.item_key`) with the item's ``cause`` when it was set
  aside (a fingerprint, :func:`domain.attention.fingerprint`) and, for a snooze, its end
  (``until``; empty for a dismissal). The item comes back on the user's home page when
  its cause changes or its snooze ends.

Each partner user reads, makes, changes and deletes only its own rows; a row is made for
the user making it, whatever it sends. Deleting a user deletes its rows.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import (
    ensure_collection,
    ensure_m2o,
    ensure_permission,
    ensure_policy,
    field,
    int_pk,
    required,
)

ME = "$CURRENT_USER"
POLICIES = ("Tandem supplier user", "Tandem distributor user", "Tandem account manager")
TABLE = "attention_set_aside"


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        TABLE,
        [
            int_pk(),
            required("item_key", "string"),
            required("cause", "string"),
            field("until", "timestamp"),  # empty: dismissed until its cause changes
        ],
        meta={"note": "Attention items a user dismissed or snoozed", "accountability": None},
    )
    ensure_m2o(hub, TABLE, "user", "directus_users", nullable=False, on_delete="CASCADE")
    mine = {"user": {"_eq": ME}}
    for name in POLICIES:
        policy = ensure_policy(hub, name)
        ensure_permission(hub, policy, TABLE, "read", permissions=mine)
        ensure_permission(
            hub, policy, TABLE, "create", fields=["item_key", "cause", "until", "user"],
            validation=mine, presets={"user": ME},
        )  # fmt: skip
        ensure_permission(hub, policy, TABLE, "update", fields=["cause", "until"], permissions=mine)
        ensure_permission(hub, policy, TABLE, "delete", permissions=mine)
