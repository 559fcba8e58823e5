"""A pair's replenishment policy (``partnerships.planning_settings``): the cycle service
level its safety stock is computed for and its review period, as
:class:`domain.replenishment.Policy` names them, set by ``tandem partner planning``.
Both sides of the pair read it with the partnership; only the hub admin writes it.
"""

from __future__ import annotations

from directus import HubClient
from migrations.schema import ensure_field, field


def upgrade(hub: HubClient) -> None:
    ensure_field(hub, "partnerships", field("planning_settings", "json"))
