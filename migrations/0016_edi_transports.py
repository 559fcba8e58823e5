"""What the HTTPS and AS2 doors need.

- ``edi_messages.as2_message_id`` and ``as2_mic``: an AS2 message's Message-ID (kept,
  so a resend carries the same one and the partner takes it once) and the MIC its
  receipt must return; ``receipt``: what the partner's receipt (MDN) said, in words.
  Partners read ``receipt``; the id and MIC are the exchange's.
- ``edi_agents.inbound_key``: the SHA-256 of the key an HTTPS partner posts its
  interchanges with (the key itself is shown once, to the operator who set the
  profile). Only the scheduler and the receiver (the sync service) read it.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import ensure_field, ensure_policy, field, set_fields

PARTNER_POLICIES = ("Tandem supplier user", "Tandem distributor user")
NEW = ["as2_message_id", "as2_mic", "receipt"]
#: 0013's and 0015's lists, as they stand, and the new fields.
SYNC_CREATES = ["direction", "standard", "message_type", "control_number", "status",
                "received_at", "payload", "error", "related_collection", "related_id",
                "sender", "receiver", "interchange", "group_control", "set_control",
                "control", "dedupe", "partner", "document_number", "file_name", "detail",
                "digest", "attempts", "next_attempt_at", *NEW]  # fmt: skip
SYNC_UPDATES = ["status", "error", "detail", "attempts", "next_attempt_at", "related_id",
                "related_collection", "document_number", "payload", "file_name", "receiver",
                *NEW]  # fmt: skip
PARTNER_READS = ["id", "direction", "standard", "message_type", "control_number", "status",
                 "received_at", "payload", "error", "related_collection", "related_id",
                 "sender", "receiver", "interchange", "group_control", "set_control",
                 "document_number", "file_name", "detail", "attempts", "next_attempt_at",
                 "receipt"]  # fmt: skip


def upgrade(hub: HubClient) -> None:
    ensure_field(hub, "edi_messages", field("as2_message_id", "string"))
    ensure_field(hub, "edi_messages", field("as2_mic", "string"))
    ensure_field(hub, "edi_messages", field("receipt", "string"))
    ensure_field(hub, "edi_agents", field("inbound_key", "string", schema={"length": 64}))
    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    set_fields(hub, sync, "edi_messages", "create", SYNC_CREATES)
    set_fields(hub, sync, "edi_messages", "update", SYNC_UPDATES)
    for name in PARTNER_POLICIES:
        set_fields(hub, ensure_policy(hub, name), "edi_messages", "read", PARTNER_READS)
