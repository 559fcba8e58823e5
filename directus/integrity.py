"""Is Tandem's integrity extension loaded in a hub?

The hub enforces much of Tandem's governance in its own transactions through the
``tandem-integrity`` hook (directus/extensions/tandem-integrity). Directus starts without
an extension it cannot find or load (it only logs the error), so a hub can answer every
request while none of those rules applies. The hook therefore answers a probe,
``GET /tandem/integrity``, registered after all its rules: an answer naming the
extension means they are in force. Directus's own ``/extensions`` list is not enough: it
needs an admin, and it lists an extension whose code failed to load.
"""

from __future__ import annotations

from directus.client import HubClient
from directus.errors import HubError, HubProcessError

EXTENSION = "tandem-integrity"
PROBE_PATH = "/tandem/integrity"


class IntegrityMissing(HubProcessError):
    """The hub answers, but without Tandem's integrity extension."""


def integrity_loaded(client: HubClient) -> bool:
    """Whether the hub answers the extension's probe (any identity, even none, will do)."""
    try:
        data = client.get(PROBE_PATH)
    except HubError:
        return False
    return isinstance(data, dict) and data.get("extension") == EXTENSION


def missing_message(url: str) -> str:
    return (
        f"the hub at {url} has not loaded Tandem's integrity extension ({EXTENSION}): "
        "its governance rules are not enforced. Start the hub with EXTENSIONS_PATH pointing "
        "at directus/extensions (docker-compose.yml mounts it at /directus/extensions), and "
        "see the hub's log for why the extension did not load"
    )


def require_integrity(client: HubClient) -> None:
    """Raise :class:`IntegrityMissing` if the hub answers but lacks the extension.

    A hub that does not answer at all is not judged here: that is an unreachable hub,
    reported as such by whoever needs it.
    """
    if client.ping() and not integrity_loaded(client):
        raise IntegrityMissing(missing_message(client.base_url))
