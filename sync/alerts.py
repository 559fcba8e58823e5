"""The ``alerts.send`` job: notifications e-mailed to the people who asked for them.

A person chooses (``alert_settings``, on the portal's notifications page) whether to be
e-mailed and how: each notification as it comes, or one daily digest (sent once the day
has reached :data:`DIGEST_HOUR` UTC). Only people who chose e-mail are read, and only
their notifications not yet sent.

A message that the mail server refuses, or a server that cannot be reached, fails only
its own notifications: each keeps its try count, the error and when it is tried again
(after 1, 5, 15, 60 and 240 minutes; :data:`MAX_ATTEMPTS` in all); the run counts it
``failed`` and goes on. A notification is never lost: it stays in the portal whatever
its e-mail does, and the page says what happened to it.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections import defaultdict
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from directus import HubClient
from domain import clock
from sync.runs import JobContext, iso

ALERTS_JOB = "alerts.send"
#: Minutes to wait after each failed try.
BACKOFF_MIN = (1, 5, 15, 60, 240)
MAX_ATTEMPTS = len(BACKOFF_MIN) + 1
#: The hour (UTC) from which a day's digest is sent.
DIGEST_HOUR = 7
TIMEOUT_S = 20


def send_alerts(ctx: JobContext) -> None:
    hub, now, smtp = ctx.hub, clock.now(), ctx.settings
    chosen = hub.read_items(
        "alert_settings", filter={"email": {"_eq": True}},
        fields=["id", "user", "address", "digest", "last_digest_at"], sort=["id"], limit=-1,
    )  # fmt: skip
    settings = {str(r["user"]): r for r in chosen if r.get("address")}  # each one's latest
    if not settings:
        return
    waiting = hub.read_items(
        "notifications",
        filter={"_and": [
            {"user": {"_in": sorted(settings)}}, {"emailed_at": {"_null": True}},
            {"email_attempts": {"_lt": MAX_ATTEMPTS}},
            {"_or": [{"next_attempt_at": {"_null": True}},
                     {"next_attempt_at": {"_lte": iso(now)}}]},
        ]},
        fields=["id", "user", "title", "body", "kind", "created_at", "email_attempts"],
        sort=["id"], limit=-1,
    )  # fmt: skip
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in waiting:
        by_user[str(row["user"])].append(row)
    for user, rows in sorted(by_user.items()):
        choice = settings[user]
        if choice["digest"] == "daily":
            if not _digest_due(choice, now):
                continue
            messages = [(rows, f"Tandem: {len(rows)} notification{'s' * (len(rows) != 1)}")]
        else:
            messages = [([row], f"Tandem: {row['title']}") for row in rows]
        for batch, subject in messages:
            try:
                deliver(smtp, str(choice["address"]), subject, body(smtp, batch))
            except (OSError, smtplib.SMTPException) as exc:
                failed(hub, batch, exc, now)
                ctx.counts["failed"] += len(batch)
                ctx.log.warning("alert to user %s failed: %s", user, exc)
                continue
            hub.patch("/items/notifications", [
                {"id": r["id"], "emailed_at": iso(now), "email_error": None,
                 "email_attempts": int(r.get("email_attempts") or 0) + 1}
                for r in batch
            ])  # fmt: skip
            ctx.counts["sent"] += len(batch)
            if choice["digest"] == "daily":
                hub.update_item("alert_settings", choice["id"], {"last_digest_at": iso(now)})
                ctx.counts["digests"] += 1


def _digest_due(choice: Mapping[str, Any], now: dt.datetime) -> bool:
    """A daily digest goes once a day, from DIGEST_HOUR UTC on."""
    if now.hour < DIGEST_HOUR:
        return False
    last = choice.get("last_digest_at")
    if not last:
        return True
    sent = dt.datetime.fromisoformat(str(last).replace("Z", "+00:00"))
    return sent.date() < now.date()


def body(smtp: Mapping[str, str], rows: Sequence[Mapping[str, Any]]) -> str:
    portal = smtp.get("portal_url", "")
    lines = [
        f"- {r['title']}" + (f"\n  {portal}{r['body']}" if portal and r.get("body") else "")
        for r in rows
    ]
    return (
        "Tandem has news for you:\n\n" + "\n".join(lines) + "\n\nChoose how you are alerted on "
        "the portal's notifications page.\n"
    )


def deliver(smtp: Mapping[str, str], to: str, subject: str, text: str) -> None:
    """One message through the configured server (TLS as set, a login if given)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp["sender"], to, subject
    message.set_content(text)
    host, port = smtp["host"], int(smtp["port"])
    if smtp["tls"] == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=TIMEOUT_S, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
    with server:
        if smtp["tls"] == "starttls":
            server.starttls(context=ssl.create_default_context())
        if smtp.get("user"):
            server.login(smtp["user"], smtp.get("password", ""))
        server.send_message(message)


def failed(
    hub: HubClient, rows: Sequence[Mapping[str, Any]], exc: BaseException, now: dt.datetime
) -> None:
    """Note the failed try on each notification, and when to try again."""
    changes = []
    for r in rows:
        tries = int(r.get("email_attempts") or 0) + 1
        wait = BACKOFF_MIN[min(tries, len(BACKOFF_MIN)) - 1]
        changes.append({
            "id": r["id"], "email_attempts": tries,
            "email_error": f"{type(exc).__name__}: {exc}"[:500],
            "next_attempt_at": iso(now + dt.timedelta(minutes=wait)),
        })  # fmt: skip
    hub.patch("/items/notifications", changes)
