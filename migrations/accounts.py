"""Service accounts the migrations create, and how their static tokens are set.

The token itself is never in a migration: it is generated into the operator's state
(or given by the operator's environment) and set here, through the admin API.
"""

from __future__ import annotations

from directus import HubClient

SYNC_SERVICE_EMAIL = "sync-service@tandem.example.com"
SYNC_SERVICE_ROLE = "Tandem sync service"
PORTAL_AUTH_EMAIL = "portal-auth@tandem.example.com"
PORTAL_AUTH_ROLE = "Tandem portal token verifier"
RECEIVER_EMAIL = "edi-receiver@tandem.example.com"
RECEIVER_ROLE = "Tandem EDI receiver"


def set_service_token(admin: HubClient, email: str, token: str) -> None:
    """Give a service user this static token (idempotent: unchanged if already set)."""
    users = admin.get("/users", filter={"email": {"_eq": email}}, fields=["id", "token"], limit=1)
    if not users:
        raise LookupError(f"no service user {email}; apply the migrations first")
    if users[0].get("token") != token:
        admin.patch(f"/users/{users[0]['id']}", {"token": token})
