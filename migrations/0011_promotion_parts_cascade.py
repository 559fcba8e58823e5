"""A promotion's SKUs, locations and history go with it when it is deleted.

The relations ``promotion_skus.promotion``, ``promotion_locations.promotion`` and
``promotion_events.promotion`` become ``ON DELETE CASCADE`` (they were ``NO ACTION``, so
a draft promotion with any of them could not be deleted: the hub answered 500). The
database deletes them in the delete's own statement, so in its transaction. Who may
delete a promotion is unchanged: a distributor its pair's drafts (the policies of
0003 and ``domain/ownership.py``), an admin any. Every other relation keeps
``NO ACTION``; the integrity hook answers a delete one of them refuses with 409 naming
what still refers to the row (``directus/extensions/tandem-integrity/references.js``).
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_on_delete

PARTS = ("promotion_skus", "promotion_locations", "promotion_events")


def upgrade(hub: HubClient) -> None:
    for collection in PARTS:
        ensure_on_delete(hub, collection, "promotion", "CASCADE")
