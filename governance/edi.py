"""The operator's EDI messages: every partner's, and a rejected one sent round again.

A replay never reaches into a partner's mailbox from here: it is a message of its own
(status ``replay``) holding the payload to read again, the one that was refused or a
corrected one. The scheduler's exchange puts it in the partner's inbox on its next run
and reads it as any file that arrived (:func:`sync.inbound.replay`), so a replayed
interchange is checked, recorded, applied and answered exactly once like any other.
"""

from __future__ import annotations

from typing import Any

from directus import HubClient
from domain import clock
from domain.edi_reports import holds_nul
from governance import audit
from governance.errors import GovernanceError

MESSAGES = "edi_messages"
#: What a replay may hold: as large as the exchange reads a file.
MAX_REPLAY_BYTES = 20 * 2**20
LIST_FIELDS = ["id", "direction", "standard", "message_type", "interchange", "status",
               "received_at", "error", "document_number", "partner", "sender", "receiver",
               "related_collection", "related_id", "file_name", "attempts"]  # fmt: skip


def list_messages(
    admin: HubClient, *, status: str | None = None, partner: int | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The latest messages, every partner's, newest first."""
    where: dict[str, Any] = {}
    if status:
        where["status"] = {"_eq": status}
    if partner:
        where["partner"] = {"_eq": partner}
    return admin.read_items(MESSAGES, filter=where, fields=LIST_FIELDS, sort=["-id"], limit=limit)


def replay(
    admin: HubClient,
    message_id: int,
    payload: bytes | None = None,
    *,
    via: str = "portal",
    actor: str | None = None,
) -> dict[str, Any]:
    """Send a rejected inbound message round again, as it was or as corrected
    (``payload``). Refused, by field, for a message that was not received and rejected."""
    found = admin.read_items(MESSAGES, filter={"id": {"_eq": message_id}}, limit=1)
    if not found:
        raise GovernanceError("no such message", {"message": ["not found"]})
    message = found[0]
    errors: dict[str, list[str]] = {}
    if message["direction"] != "in" or message["status"] != "rejected":
        errors["message"] = [f"only a rejected inbound message replays; this one is "
                             f"{message['direction']} and {message['status']}"]  # fmt: skip
    if payload is not None and len(payload) > MAX_REPLAY_BYTES:
        errors["file"] = [f"at most {MAX_REPLAY_BYTES:,} bytes"]
    elif payload is not None and holds_nul(payload):
        errors["file"] = ["it holds a NUL byte: not an X12 or EDIFACT file"]
    text = payload.decode("latin-1") if payload is not None else message.get("payload")
    if not text:
        errors.setdefault("file", []).append(
            "the message kept no payload (its file is in the partner's archive): upload it"
        )
    if errors:
        raise GovernanceError(f"cannot replay message {message_id}", errors)
    if message.get("dedupe"):
        # The document was read and refused when applied: its key is set free, so that
        # the replay is recorded and applied afresh rather than taken for a duplicate.
        admin.update_item(MESSAGES, message_id, {"dedupe": f"replaced:{message_id}"})
    name = f"replay-{message_id}-{clock.now():%Y%m%dT%H%M%S}.edi"
    row = admin.create_item(
        MESSAGES,
        {
            "direction": "in",
            "standard": message["standard"],
            "message_type": message["message_type"],
            "status": "replay",
            "received_at": clock.now().isoformat(timespec="milliseconds"),
            "payload": text,
            "partner": message["partner"],
            "sender": message["sender"],
            "file_name": name,
            "detail": {"replays": message_id, "corrected": payload is not None},
        },
    )
    audit.record(
        admin, "edi.replay", MESSAGES, [message_id],
        detail={"replay": row["id"], "corrected": payload is not None}, via=via, actor=actor,
    )  # fmt: skip
    return row
