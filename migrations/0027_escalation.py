"""Escalation protocols and notifications.

- ``partnerships.escalation``: the pair's agreed levels (domain/exceptions.py, ``Level``):
  ``{"levels": [{"level", "after_hours", "contacts": [{"user", "side", "name"}]}]}``,
  recorded by the operator (``tandem partner escalation``); both sides read it with the
  partnership.
- ``exceptions.level`` and ``escalated_at``: how far an exception past its due time has
  climbed, and when it last did; written by the ``exceptions.evaluate`` job.
- ``notifications``: what a person is told (an exception opened that its side owns, an
  exception escalated to its level), one row per person; each user reads its own and
  marks them read; the job writes them. E-mail delivery reads them too.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import (
    add_fields,
    ensure_collection,
    ensure_field,
    ensure_m2o,
    ensure_permission,
    ensure_policy,
    field,
    int_pk,
    required,
)

ME = "$CURRENT_USER"
POLICIES = ("Tandem supplier user", "Tandem distributor user", "Tandem account manager")
NOTIFICATION_FIELDS = ["id", "user", "partnership", "exception", "kind", "title", "body",
                       "created_at", "read_at"]  # fmt: skip


def upgrade(hub: HubClient) -> None:
    ensure_field(hub, "partnerships", field("escalation", "json"))
    ensure_field(hub, "exceptions", field("level", "integer", schema={"default_value": 0}))
    ensure_field(hub, "exceptions", field("escalated_at", "timestamp"))
    ensure_collection(
        hub,
        "notifications",
        [
            int_pk(),
            required("kind", "string"),  # opened | escalated
            required("title", "string"),
            field("body", "text"),
            field("created_at", "timestamp", meta={"special": ["date-created"], "readonly": True}),
            field("read_at", "timestamp"),
        ],
        meta={"note": "What a person is told", "accountability": None},
    )
    ensure_m2o(hub, "notifications", "user", "directus_users", nullable=False)
    ensure_m2o(hub, "notifications", "partnership", "partnerships")
    ensure_m2o(hub, "notifications", "exception", "exceptions")
    mine = {"user": {"_eq": ME}}
    for name in POLICIES:
        policy = ensure_policy(hub, name)
        ensure_permission(hub, policy, "notifications", "read", permissions=mine)
        ensure_permission(
            hub, policy, "notifications", "update", fields=["read_at"], permissions=mine
        )
    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    ensure_permission(
        hub, sync, "notifications", "create",
        fields=[f for f in NOTIFICATION_FIELDS if f not in ("id", "created_at", "read_at")],
    )  # fmt: skip
    ensure_permission(hub, sync, "notifications", "read", fields=NOTIFICATION_FIELDS)
    # The scorecard job reads closed exceptions for the time to resolution.
    add_fields(
        hub, sync, "exceptions", "read",
        ["level", "escalated_at", "status", "closed_at", "hours_to_close"],
    )  # fmt: skip
    add_fields(hub, sync, "exceptions", "update", ["level", "escalated_at"])
    add_fields(hub, sync, "partnerships", "read", ["escalation"])
