"""Health: is the portal up, can it reach the hub, and does the hub enforce Tandem's rules?"""

from __future__ import annotations

from flask import Blueprint, render_template

from directus.integrity import EXTENSION, integrity_loaded
from portal.errors import wants_json
from portal.hub import hub

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> tuple[object, int]:
    """Answer 200 when the hub answers its ping and has loaded the integrity extension.

    503 otherwise: a hub without the extension answers every request, but none of the
    rules the extension enforces in the hub's own transactions applies.
    """
    client = hub.anonymous()
    reachable = client.ping()
    loaded = reachable and integrity_loaded(client)
    report = {
        "portal": "ok",
        "hub": "reachable" if reachable else "unreachable",
        "integrity": "loaded" if loaded else ("missing" if reachable else "unknown"),
    }
    status = 200 if loaded else 503
    if reachable and not loaded:
        report["problem"] = f"the hub has not loaded Tandem's integrity extension ({EXTENSION})"
    if wants_json():
        return report, status
    return render_template("health.html", report=report, reachable=reachable), status
