"""What every journey's pages share: the user's governed data access, the report cache,
the main navigation, a list's filters, a refused write or a schema's messages as a form
shows them, and data-layer errors answered as pages.

Each journey blueprint adds its entries to the navigation with :func:`add_nav` in its
``init_app``; ``base.html`` shows the entries for the signed-in user's role, and links
the journey's own stylesheet (``static/<blueprint>.css``) on its pages. The templates'
shared pieces (a field's error, a form's messages, a labelled input, a searchable picker
of :class:`Choice`, list filters, the pager) are the macros of ``templates/_macros.html``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError

from portal.auth import current_hub
from portal.data import DataAccess, DataError, Forbidden, insights
from portal.data.access import resource

#: A form's messages by input name (``_schema`` or ``lines`` for the form as a whole).
Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Choice:
    """One option of a picker (``_macros.html`` ``picker``): the value it posts, the text
    it shows (a SKU's or a store's code and name, never its id alone), and more words it
    is found by."""

    value: str
    text: str
    search: str = ""


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    roles: frozenset[str]
    order: int


def access(pair: int | None = None) -> DataAccess:
    """The data layer as the signed-in user, audited as coming from the portal's pages;
    ``pair`` narrows it to one of the user's pairs (see :class:`Scope`).

    It holds the user itself, not the request-bound proxy: reports read the hub from a
    few threads at once, and those have no request context.
    """
    return DataAccess(current_user._get_current_object(), current_hub(), via="portal", pair=pair)


def reports() -> insights.ReportCache:
    """The app's report cache (names, reports), kept per process across requests."""
    return current_app.extensions["tandem.reports"]


def flat(messages: Any) -> list[str]:
    """A schema's messages for one field, nested or not, as one list of messages."""
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in flat(v)]
    if isinstance(messages, list):
        return [m for v in messages for m in flat(v)]
    return [str(messages)]


def refusal(exc: DataError) -> tuple[Errors, str]:
    """A refused write as its form shows it: the messages by field, and the sentence
    above the form saying nothing was saved."""
    errors = {k: list(v) for k, v in exc.errors.items()}
    if isinstance(exc, Forbidden):
        return errors, f"Refused: {exc.message}. Nothing was saved."
    return errors, f"{exc.message[:1].upper()}{exc.message[1:]}. Nothing was saved."


def list_filters(name: str, keys: Collection[str]) -> tuple[dict[str, Any], Errors]:
    """A list page's filters: the query string's ``keys`` (blank ones left out), loaded by
    resource ``name``'s query schema as the data layer and the export take them, and
    their errors by field (then no filter at all, so the page shows what it can)."""
    raw = {k: v for k, v in request.args.items() if k in keys and v.strip()}
    try:
        query = resource(name).query_schema()().load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return {}, {k: flat(v) for k, v in messages.items()}
    return query, {}


def add_nav(app: Flask, label: str, endpoint: str, roles: tuple[str, ...], order: int) -> None:
    """Show a link to ``endpoint`` in the main navigation for users in ``roles``."""
    entries: list[NavEntry] = app.extensions.setdefault("tandem.nav", [])
    entries.append(NavEntry(label, endpoint, frozenset(roles), order))
    entries.sort(key=lambda e: e.order)


def check_nav(app: Flask) -> None:
    """Refuse to start with a navigation entry offered to a role its page refuses (the
    page's ``role_required`` says who may open it)."""
    for entry in app.extensions.get("tandem.nav", []):
        view = app.view_functions.get(entry.endpoint)
        allowed = getattr(view, "tandem_roles", None)
        if allowed is None or not entry.roles <= allowed:
            refused = sorted(entry.roles - (allowed or frozenset()))
            raise RuntimeError(
                f"navigation entry {entry.label!r} offers {entry.endpoint} to {refused}, "
                "which it refuses"
            )


def nav_entries() -> list[NavEntry]:
    """The navigation entries the signed-in user's role sees."""
    if not current_user.is_authenticated:
        return []
    entries: list[NavEntry] = current_app.extensions.get("tandem.nav", [])
    return [e for e in entries if current_user.role in e.roles]


def _data_error(exc: DataError) -> tuple[str, int]:
    return render_template(
        "error.html", status=exc.status, title=exc.code.replace("_", " ").title(),
        message=exc.message, errors=exc.errors,
    ), exc.status  # fmt: skip


def answer_errors_as_pages(bp: Blueprint) -> None:
    """Render the data layer's refusals (403, 404, 409, 422, 503…) as error pages."""
    bp.register_error_handler(DataError, _data_error)


def journey_styles(app: Flask) -> frozenset[str]:
    """The blueprints that have a stylesheet of their own, ``static/<blueprint>.css``."""
    static = Path(app.static_folder or "")
    return frozenset(path.stem for path in static.glob("*.css") if path.stem != "portal")


def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.extensions.setdefault("tandem.nav", [])
    styles = journey_styles(app)
    app.context_processor(lambda: {"nav_entries": nav_entries, "journey_styles": styles})
