"""A trading partner as the EDI exchange sees it: who it is in an envelope, and what its
profile says it sends and expects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from sync.as2 import Partner

ORG_FIELDS = ["id", "name", "kind", "status", "gln", "x12_qualifier", "x12_id", "edifact_id",
              "edi_profile"]  # fmt: skip


@dataclass(frozen=True)
class Org:
    """An organization as the exchange sees it; ``profile`` is None without one."""

    id: int
    name: str
    kind: str
    status: str
    gln: str
    x12_qualifier: str
    x12_id: str
    edifact_id: str
    profile: Mapping[str, Any] | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Org:
        return cls(
            int(row["id"]),
            str(row["name"]),
            str(row["kind"]),
            str(row["status"]),
            row.get("gln") or "",
            row.get("x12_qualifier") or "",
            row.get("x12_id") or "",
            row.get("edifact_id") or "",
            row.get("edi_profile") or None,
        )

    def envelope_id(self, standard: str) -> tuple[str, str]:
        """Who this organization is in an envelope of ``standard``: its own id, else its
        GLN, else a Tandem id (``TANDEM<id>``) the partner's map can be told."""
        if standard == "x12":
            if self.x12_id:
                return self.x12_qualifier or "ZZ", self.x12_id
            return "ZZ", self.gln or f"TANDEM{self.id}"
        return (
            ("14", self.edifact_id or self.gln)
            if (self.edifact_id or self.gln)
            else ("ZZZ", f"TANDEM{self.id}")
        )

    def is_called(self, standard: str, text: str) -> bool:
        return text.strip().upper() == self.envelope_id(standard)[1].upper()

    def expects(self, document: str) -> bool:
        return bool(self.profile) and document in (self.profile or {}).get("expects", ())

    def sends(self, document: str) -> bool:
        return bool(self.profile) and document in (self.profile or {}).get("sends", ())

    def as2_partner(self) -> Partner:
        """The partner as AS2 knows it: its id, certificate (checked when the profile was
        set), URL and receipt mode; messages both ways are signed and encrypted."""
        profile = self.profile or {}
        certificate = x509.load_pem_x509_certificate(
            str(profile.get("as2_certificate") or "").encode("ascii")
        )
        return Partner(
            str(profile.get("as2_id") or ""),
            certificate,
            url=str(profile.get("address") or ""),
            receipt=str(profile.get("as2_receipt") or "sync"),
        )

    @property
    def standard(self) -> str:
        return str((self.profile or {}).get("standard", ""))
