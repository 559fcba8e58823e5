"""The hub's write generation: one number that moves after every write.

``tandem_generation`` holds one row (``id`` 1) whose ``n`` the tandem-integrity extension
moves after each write request and the bulk lane moves in each import's transaction. A
reader that keeps what it read under the number it saw (the portal's read cache,
:mod:`directus.reads`) then never serves a read from before a write it could know of.
No policy opens it: only the extension, the lane and admins touch it.
"""

from __future__ import annotations

from directus import HubClient
from directus.errors import ForbiddenOrMissing
from migrations.schema import ensure_collection, field, required

TABLE = "tandem_generation"


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        TABLE,
        [
            field(
                "id", "integer", meta={"hidden": True, "readonly": True},
                schema={"is_primary_key": True},
            ),
            required("n", "bigInteger", default_value=0),
        ],
        meta={"note": "The hub's write generation (one row)", "hidden": True,
              "accountability": None},
    )  # fmt: skip
    try:
        hub.read_item(TABLE, 1)
    except ForbiddenOrMissing:
        hub.create_item(TABLE, {"id": 1, "n": 0})
