"""The EDI receiver's own account: the door partners post to, facing the internet, reads
and writes only what taking a file or a receipt needs.

The sync service's token reads every partner's EDI agent token (``edi_agents.token``),
which acts as that partner: the receiver must not hold it. Its account reads the
partners' envelope ids and profiles, their inbound keys' hashes, and of the exchange's
messages what finds the one a receipt answers; it writes a message's ``receipt`` and
``next_attempt_at``, nothing else.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import RECEIVER_EMAIL, RECEIVER_ROLE
from migrations.schema import ensure_permission, ensure_policy, ensure_role, ensure_service_user

ORG_FIELDS = ["id", "name", "kind", "status", "gln", "x12_qualifier", "x12_id", "edifact_id",
              "edi_profile"]  # fmt: skip


def upgrade(hub: HubClient) -> None:
    policy = ensure_policy(
        hub, RECEIVER_ROLE, description="The EDI receiver: partners' files and receipts only"
    )
    ensure_permission(hub, policy, "organizations", "read", fields=ORG_FIELDS)
    ensure_permission(hub, policy, "edi_agents", "read", fields=["organization", "inbound_key"])
    ensure_permission(hub, policy, "edi_messages", "read",
                      fields=["id", "partner", "direction", "as2_message_id", "as2_mic",
                              "attempts"])  # fmt: skip
    ensure_permission(hub, policy, "edi_messages", "update", fields=["receipt", "next_attempt_at"])
    role = ensure_role(hub, RECEIVER_ROLE, policies=[policy])
    ensure_service_user(hub, RECEIVER_EMAIL, role, first_name="Tandem", last_name="EDI receiver")
