"""Alerts by e-mail: each person's choice, and each notification's delivery.

- ``alert_settings``: one row per user who chose (``email``: whether to be e-mailed at
  all, off unless chosen; ``digest``: ``immediate``, each notification as it comes, or
  ``daily``, one message a day; ``address``: the user's own e-mail address, which the
  hub checks it is); each user reads, makes and changes only its own. The
  ``alerts.send`` job notes when it last sent a digest (``last_digest_at``); it reads the
  address here, never the users themselves.
- ``notifications.emailed_at``, ``email_attempts``, ``email_error``, ``next_attempt_at``:
  what the job did with each: sent when, or how many tries failed, why, and when it tries
  again. A notification is never lost because a mail failed: it stays in the portal.
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
DELIVERY = ["emailed_at", "email_attempts", "email_error", "next_attempt_at"]


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        "alert_settings",
        [
            int_pk(),
            required("email", "boolean", default_value=False),
            required("digest", "string", default_value="immediate"),  # immediate | daily
            field("address", "string"),  # the user's own e-mail address, when it chose
            field("last_digest_at", "timestamp"),
        ],
        meta={"note": "How a person wants to be alerted", "accountability": None},
    )
    ensure_m2o(hub, "alert_settings", "user", "directus_users", nullable=False)
    ensure_field(hub, "notifications", field("emailed_at", "timestamp"))
    ensure_field(
        hub, "notifications", field("email_attempts", "integer", schema={"default_value": 0})
    )
    ensure_field(hub, "notifications", field("email_error", "text"))
    ensure_field(hub, "notifications", field("next_attempt_at", "timestamp"))
    mine = {"user": {"_eq": ME}}
    # Alerts go only to the user's own address: the sync service never reads users.
    choice = {"_and": [{"digest": {"_in": ["immediate", "daily"]}},
                       {"address": {"_eq": "$CURRENT_USER.email"}}]}  # fmt: skip
    for name in POLICIES:
        policy = ensure_policy(hub, name)
        ensure_permission(hub, policy, "alert_settings", "read", permissions=mine)
        ensure_permission(
            hub, policy, "alert_settings", "create", fields=["address", "email", "digest", "user"],
            validation={"_and": [mine, choice]}, presets={"user": ME},
        )  # fmt: skip
        ensure_permission(
            hub, policy, "alert_settings", "update", fields=["address", "email", "digest"],
            permissions=mine, validation=choice,
        )  # fmt: skip
    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    ensure_permission(
        hub, sync, "alert_settings", "read",
        fields=["id", "user", "address", "email", "digest", "last_digest_at"],
    )  # fmt: skip
    ensure_permission(hub, sync, "alert_settings", "update", fields=["last_digest_at"])
    add_fields(hub, sync, "notifications", "read", DELIVERY)
    add_fields(hub, sync, "notifications", "update", DELIVERY)
