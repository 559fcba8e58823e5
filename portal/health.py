"""Health: is the portal up, and can it reach the hub?"""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.errors import wants_json
from portal.hub import hub

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> tuple[object, int]:
    """Answer 200 when the hub answers its ping, 503 when it does not."""
    reachable = hub.anonymous().ping()
    status = 200 if reachable else 503
    report = {"portal": "ok", "hub": "reachable" if reachable else "unreachable"}
    if wants_json():
        return report, status
    return render_template("health.html", report=report, reachable=reachable), status
