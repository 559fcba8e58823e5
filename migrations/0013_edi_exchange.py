"""The scheduled EDI exchange: its message records, the partners' EDI agents, and the
order fields the exchange fills.

- ``edi_messages`` gets what the exchange needs to keep each document once and find it
  again: the interchange, group and set control numbers, ``control`` (the interchange's
  number as an integer, for the next one per pair of envelope parties and direction),
  ``dedupe`` (unique: ``in:<partner>:<interchange>:<group>:<set>`` or
  ``out:<partner>:<sender>:<control>``, so the same document is never recorded, nor
  applied, twice), the trading partner it went to or came from, the document's own
  number, the file name, the faults found (``detail``), the digest of what was sent (a
  later change of the order is told from it), and for outbound documents the delivery
  attempts and when to try again.
- ``edi_agents``: each partner with an EDI profile has an agent, a hub user of that
  partner's own organization and role with a static token. The scheduler applies what a
  partner sends with its agent's token, so the hub's own rules (row policies, the
  ownership hook) decide what that partner may change: a document for another partner's
  order is refused by the hub as a web user's request would be. Only the sync service
  reads the tokens; no partner policy grants the collection.
- ``po_lines.answer`` and ``answer_reason``: the supplier's answer per line (accepted,
  changed, rejected) and why, written with its promise.
- ``shipment_lines.sscc``: the carton (SSCC-18) a shipped line is packed in.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import (
    ensure_collection,
    ensure_field,
    ensure_permission,
    ensure_policy,
    field,
    set_fields,
)

SUPPLIER = "Tandem supplier user"
PROMISE = ["original_promised_date", "promised_date", "revised_date"]
ORG_FIELDS = ["id", "name", "kind", "status", "gln", "x12_qualifier", "x12_id", "edifact_id"]

MESSAGE_FIELDS = [
    field("interchange", "string"),
    field("group_control", "string"),
    field("set_control", "string"),
    field("control", "bigInteger"),
    field("dedupe", "string", schema={"is_unique": True}),
    field("partner", "integer"),
    field("document_number", "string"),
    field("file_name", "string"),
    field("detail", "json"),
    field("digest", "string", schema={"length": 64}),
    field("attempts", "integer", schema={"default_value": 0}),
    field("next_attempt_at", "timestamp"),
]
#: What the exchange writes on a message record it keeps.
SYNC_MESSAGE_FIELDS = [
    "direction",
    "standard",
    "message_type",
    "control_number",
    "status",
    "received_at",
    "payload",
    "error",
    "related_collection",
    "related_id",
    "sender",
    "receiver",
    *(f["field"] for f in MESSAGE_FIELDS),
]


def upgrade(hub: HubClient) -> None:
    for definition in MESSAGE_FIELDS:
        ensure_field(hub, "edi_messages", definition)
    ensure_collection(
        hub,
        "edi_agents",
        [
            {"field": "organization", "type": "integer", "schema": {"is_primary_key": True}},
            field("email", "string", schema={"is_nullable": False}),
            field("token", "string", schema={"is_nullable": False}),
        ],
        meta={"note": "Each EDI partner's agent user and its token (the scheduler's only)",
              "accountability": None},
    )  # fmt: skip
    ensure_field(hub, "po_lines", field("answer", "string"))
    ensure_field(hub, "po_lines", field("answer_reason", "string"))
    ensure_field(hub, "shipment_lines", field("sscc", "string", schema={"length": 18}))

    supplier = ensure_policy(hub, SUPPLIER)
    set_fields(
        hub, supplier, "po_lines", "update", [*PROMISE, "answer", "answer_reason", "qty_promised"]
    )
    set_fields(
        hub, supplier, "shipment_lines", "create",
        ["partnership", "po_line", "qty_shipped", "shipment", "sscc"],
    )  # fmt: skip
    set_fields(hub, supplier, "shipment_lines", "update", ["qty_shipped", "sscc"])

    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    ensure_permission(hub, sync, "organizations", "read", fields=[*ORG_FIELDS, "edi_profile"])
    ensure_permission(hub, sync, "edi_agents", "read")
    ensure_permission(hub, sync, "edi_messages", "read")
    ensure_permission(hub, sync, "edi_messages", "create", fields=SYNC_MESSAGE_FIELDS)
    ensure_permission(
        hub,
        sync,
        "edi_messages",
        "update",
        fields=["status", "error", "detail", "attempts", "next_attempt_at", "related_id",
                "related_collection", "document_number", "payload", "file_name", "receiver"],
    )  # fmt: skip
