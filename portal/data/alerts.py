"""A person's choice of e-mail alerts (``alert_settings``), read and written with the
user's own hub session: each user reads and changes only its own (the hub's policies)."""

from __future__ import annotations

from typing import Any

from portal.data.access import DataAccess
from portal.data.errors import Invalid

DIGESTS = ("immediate", "daily")
FIELDS = ["id", "email", "digest"]


def settings(acc: DataAccess) -> dict[str, Any]:
    """The user's choice (off, each as it comes, until chosen)."""
    mine = acc.hub.read_items(
        "alert_settings", filter={"user": {"_eq": acc.actor.id}}, fields=FIELDS,
        sort=["-id"], limit=1,
    )  # fmt: skip
    return mine[0] if mine else {"id": None, "email": False, "digest": "immediate"}


def choose(acc: DataAccess, email: bool, digest: str, address: str) -> None:
    """Whether to e-mail the user its notifications (at its own ``address``, which the
    hub checks), and as they come or once a day."""
    if digest not in DIGESTS:
        raise Invalid(f"digest: one of {', '.join(DIGESTS)}", {"digest": ["unknown choice"]})
    change = {"email": email, "digest": digest, "address": address}
    current = settings(acc)
    if current["id"] is None:
        acc.write(lambda: acc.hub.create_item("alert_settings", change, fields=["id"]),
                  "alert_settings")  # fmt: skip
    else:
        acc.write(
            lambda: acc.hub.update_item("alert_settings", current["id"], change, fields=["id"]),
            "alert_settings",
        )
    acc.record("alerts.choose", "alert_settings", [], change)
