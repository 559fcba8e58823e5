"""The EDI messages pages (``/edi``): every document exchanged by EDI, in and out, with
its status, and for a refused one the precise reason (segment position, element,
expected and found).

Suppliers and distributors see the messages their organization sent or received, read
through the data layer as themselves (the hub's rules decide); the operator sees every
partner's, through :mod:`governance.edi`, and sends a rejected message round again, as
it was or corrected (the scheduler's exchange reads a replay as any arrival). Each
message's payload downloads as the file it was.
"""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from domain.roles import DISTRIBUTOR_USER, OPERATOR_ADMIN, SUPPLIER_USER
from governance import GovernanceError
from governance import edi as operator_edi
from governance.partners import list_partners
from portal.auth import current_hub, role_required
from portal.data import insights
from portal.data.registry import INT_KEY
from portal.pages import access, add_nav, answer_errors_as_pages

bp = Blueprint("edi", __name__, url_prefix="/edi")
answer_errors_as_pages(bp)

PARTNERS = (SUPPLIER_USER, DISTRIBUTOR_USER)
READERS = (*PARTNERS, OPERATOR_ADMIN)
STATUSES = ("queued", "sent", "failing", "unsendable", "acknowledged", "rejected", "received",
            "applied", "forwarded", "duplicate", "replay", "replayed")  # fmt: skip
PER_PAGE = 100
#: The largest replacement file the operator uploads for a replay.
MAX_REPLAY_BYTES = operator_edi.MAX_REPLAY_BYTES


def _names() -> dict[int, str]:
    """The organizations the user may name: every partner for the operator; a partner's
    own and those it trades with."""
    if current_user.role == OPERATOR_ADMIN:
        return {int(o["id"]): o["name"] for o in list_partners(current_hub())}
    return insights.org_names(access())


def _messages(status: str | None) -> list[dict[str, Any]]:
    if current_user.role == OPERATOR_ADMIN:
        return operator_edi.list_messages(current_hub(), status=status, limit=PER_PAGE)
    query: dict[str, Any] = {"per_page": PER_PAGE, "sort": "-received_at"}
    if status:
        query["status"] = status
    return access().list("edi-messages", query).rows


def _message(key: int) -> dict[str, Any]:
    """One message the user may see (404 for another partner's, as for none)."""
    if current_user.role == OPERATOR_ADMIN:
        found = current_hub().read_items("edi_messages", filter={"id": {"_eq": key}}, limit=1)
        if not found:
            abort(404, "No such EDI message.")
        return found[0]
    return access().get("edi-messages", key)


@bp.get("")
@role_required(*READERS)
def index() -> str:
    """The latest messages, newest first, filtered by status."""
    status = request.args.get("status") or None
    if status not in (None, *STATUSES):
        status = None
    return render_template(
        "edi/list.html",
        messages=_messages(status),
        names=_names(),
        status=status,
        statuses=STATUSES,
        operator=current_user.role == OPERATOR_ADMIN,
    )


@bp.get(INT_KEY)
@role_required(*READERS)
def detail(key: int) -> str:
    """A message: its envelope, status, reason, what it came to, and its payload."""
    message = _message(key)
    return render_template(
        "edi/detail.html",
        message=message,
        names=_names(),
        operator=current_user.role == OPERATOR_ADMIN,
        max_bytes=MAX_REPLAY_BYTES,
    )


@bp.get(f"{INT_KEY}/payload")
@role_required(*READERS)
def payload(key: int) -> Response:
    """The message's payload as the file it was."""
    message = _message(key)
    if not message.get("payload"):
        flash("This message kept no payload: its file is in the partner's mailbox archive.")
        return redirect(url_for("edi.detail", key=key))  # type: ignore[return-value]
    return send_file(
        io.BytesIO(str(message["payload"]).encode("latin-1")),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=str(message.get("file_name") or f"message-{key}.edi"),
    )


@bp.post(f"{INT_KEY}/replay")
@role_required(OPERATOR_ADMIN)
def replay(key: int) -> Any:
    """Send a rejected message round again, as it was or as the uploaded file."""
    upload = request.files.get("file")
    data = upload.read(MAX_REPLAY_BYTES + 1) if upload and upload.filename else None
    try:
        row = operator_edi.replay(
            current_hub(), key, data, via="portal", actor=str(current_user.id)
        )
    except GovernanceError as error:
        problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.errors.items())
        flash(f"Not replayed: {problems}")
        return redirect(url_for("edi.detail", key=key))
    flash(f"Replay {row['id']} queued: the exchange reads it on its next run.")
    return redirect(url_for("edi.detail", key=row["id"]))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "EDI messages", "edi.index", READERS, 75)
