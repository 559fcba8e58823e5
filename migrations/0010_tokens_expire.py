"""Every personal API token expires, within a year (``portal.tokens.MAX_DAYS``).

Tokens were minted with no expiry unless their user chose one, and a partner creating an
``api_tokens`` row with its own login through the hub's REST API could leave it out.
Now the portal gives a token 90 days unless its user chooses 1 to 365, and the partner
policies' create rule asks for an ``expires_at`` at most 366 days ahead of the hub's
clock (a day's margin for the portal's and the hub's clocks), on the fields the portal
writes. Tokens minted before this migration with no expiry expire 90 days from now.
"""

from __future__ import annotations

import datetime as dt

from directus import HubClient
from domain import clock
from migrations.schema import ensure_permission, ensure_policy

PARTNERS = ("Tandem supplier user", "Tandem distributor user", "Tandem account manager")
ME = "$CURRENT_USER"
FIELDS = ["id", "user", "name", "token_hash", "sealed", "created_at", "expires_at"]
LEGACY_DAYS = 90


def upgrade(hub: HubClient) -> None:
    for name in PARTNERS:
        ensure_permission(
            hub,
            ensure_policy(hub, name),
            "api_tokens",
            "create",
            fields=FIELDS,
            validation={
                "_and": [
                    {"user": {"_eq": ME}},
                    {"expires_at": {"_nnull": True}},
                    {"expires_at": {"_lte": "$NOW(+366 days)"}},
                ]
            },
            presets={"user": ME},
        )
    until = (clock.now() + dt.timedelta(days=LEGACY_DAYS)).isoformat(timespec="seconds")
    for row in hub.read_items(
        "api_tokens", filter={"expires_at": {"_null": True}}, fields=["id"], limit=-1
    ):
        hub.update_item("api_tokens", row["id"], {"expires_at": until})
