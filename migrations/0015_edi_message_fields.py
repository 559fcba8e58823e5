"""Partners read the EDI messages they sent or received, without the exchange's own
bookkeeping.

0003 let a partner read every field of its messages. Since 0013 those include the
exchange's counters and keys: ``control`` and ``dedupe`` (numbered per pair of envelope
parties, so they say nothing of other pairs, but they are the exchange's, not the
partner's), ``partner`` and ``digest``. A partner's read now lists the fields the
portal and the API show; the interchange's own control number stays readable as
``interchange`` and ``control_number``.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_policy, set_fields

PARTNER_POLICIES = ("Tandem supplier user", "Tandem distributor user")
READABLE = ["id", "direction", "standard", "message_type", "control_number", "status",
            "received_at", "payload", "error", "related_collection", "related_id", "sender",
            "receiver", "interchange", "group_control", "set_control", "document_number",
            "file_name", "detail", "attempts", "next_attempt_at"]  # fmt: skip


def upgrade(hub: HubClient) -> None:
    for name in PARTNER_POLICIES:
        set_fields(hub, ensure_policy(hub, name), "edi_messages", "read", READABLE)
