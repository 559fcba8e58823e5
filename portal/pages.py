"""What every journey's pages share: the user's governed data access, the main
navigation, and data-layer errors answered as pages.

Each journey blueprint adds its entries to the navigation with :func:`add_nav` in its
``init_app``; ``base.html`` shows the entries for the signed-in user's role, and links
the journey's own stylesheet (``static/<blueprint>.css``) on its pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, current_app, render_template
from flask_login import current_user

from portal.auth import current_hub
from portal.data import DataAccess, DataError


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    roles: frozenset[str]
    order: int


def access() -> DataAccess:
    """The data layer as the signed-in user, audited as coming from the portal's pages.

    It holds the user itself, not the request-bound proxy: reports read the hub from a
    few threads at once, and those have no request context.
    """
    return DataAccess(current_user._get_current_object(), current_hub(), via="portal")


def add_nav(app: Flask, label: str, endpoint: str, roles: tuple[str, ...], order: int) -> None:
    """Show a link to ``endpoint`` in the main navigation for users in ``roles``."""
    entries: list[NavEntry] = app.extensions.setdefault("tandem.nav", [])
    entries.append(NavEntry(label, endpoint, frozenset(roles), order))
    entries.sort(key=lambda e: e.order)


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


def init_app(app: Flask) -> None:
    app.extensions.setdefault("tandem.nav", [])
    styles = journey_styles(app)
    app.context_processor(lambda: {"nav_entries": nav_entries, "journey_styles": styles})
