"""Partners' EDI profiles, on their partner record.

``organizations.edi_profile`` (JSON) holds how a partner exchanges documents with
Tandem: its standard (X12 004010 or EDIFACT D96A), its GS code (X12) or UNB qualifier
(EDIFACT), its transport (folder mailbox, HTTPS or AS2) and address, the documents it
sends and expects, and whether it wants functional acknowledgements. Who the partner is
in an envelope stays where it was, in ``x12_qualifier``/``x12_id`` and ``edifact_id``.
Both are set together by the operator (``tandem partner edi``, the operator's partners
page; checked by :func:`domain.edi_profiles.check`). The profile is the operator's: no
partner policy reads or writes it (its address can be a path on Tandem's machine).
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_field, field


def upgrade(hub: HubClient) -> None:
    ensure_field(
        hub,
        "organizations",
        field(
            "edi_profile",
            "json",
            meta={"note": "How the partner exchanges EDI: standard, transport, documents"},
        ),
    )
