"""Sign-in: who a request's user is, and the hub client that acts as them.

Views use :func:`flask_login.login_required` (or :func:`role_required`), ``current_user``
(a :class:`PortalUser`) and :func:`current_hub`, the same way whether the request came
from a browser session or with a personal API token.

**Browser sessions.** ``POST /login`` opens a hub session for the user (session mode,
see :class:`directus.Tokens`). The Flask session is a signed cookie the browser can read,
so the hub session goes into it sealed (:mod:`portal.sealing`) under a key derived from
SECRET_KEY: every worker and replica with the same SECRET_KEY can open it, the browser
cannot, and no server-side store is needed. The seal is renewed on every request, and one
older than TANDEM_SESSION_HOURS is refused: that is the idle expiry. A refreshed hub
session is written back into the cookie.

**Every request** loads the user through the hub with their own token (``/users/me``).
A user who is no longer active, whose organization is not active, or whose hub session
the hub refuses, is signed out there and then. If the hub cannot be reached, the session
is kept and the request answers 503.

**Personal API tokens** (``Authorization: Bearer tdm_…`` on ``/api/`` paths) are
verified by :mod:`portal.tokens`, through flask-login's request loader.

**CSRF.** Every unsafe request carries the session's CSRF token, in the form field
``csrf_token`` or the ``X-CSRFToken`` header, except API calls with a bearer token: a
browser never adds that header to a cross-site request.

**Throttling.** Password checks (sign-in and minting a token) are limited per client IP
and per account, in the storage TANDEM_RATELIMIT_STORAGE names.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf.csrf import CSRFProtect
from limits import parse as parse_limit
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from directus import AuthFailed, ForbiddenOrMissing, HubClient, HubError, Tokens
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, OPERATOR_ADMIN, ROLES, SUPPLIER_USER
from portal.config import Config
from portal.errors import envelope
from portal.hub import hub, keep_alive
from portal.sealing import derive_fernet, seal, unseal

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)

#: Where each role lands after signing in.
HOME_ENDPOINTS = {
    SUPPLIER_USER: "home.supplier",
    DISTRIBUTOR_USER: "home.distributor",
    ACCOUNT_MANAGER: "home.manager",
    OPERATOR_ADMIN: "home.operator",
}
#: What the portal asks the hub about the signed-in user on every request.
ME_FIELDS = [
    "id",
    "email",
    "first_name",
    "last_name",
    "status",
    "tandem_role",
    "organization.id",
    "organization.name",
    "organization.kind",
    "organization.status",
]
#: Password checks per client IP (every POST counts).
IP_LIMIT = "20 per minute"
#: Wrong passwords per account before its password checks are refused for a while.
ACCOUNT_FAILURES = parse_limit("5 per 15 minutes")
THROTTLED = "Too many failed sign-in attempts. Wait 15 minutes, then try again."
_SESSION_KEY = "hub"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

V = TypeVar("V", bound=Callable[..., Any])


@dataclass(frozen=True, eq=False)
class PortalUser(UserMixin):
    """The signed-in user, as the hub said on this request."""

    id: str
    email: str
    first_name: str | None
    last_name: str | None
    role: str  # a domain.roles role: supplier_user, distributor_user, ...
    organization_id: int
    organization_name: str
    organization_kind: str
    #: The personal API token this request came with, if it came with one.
    token_id: str | None = None

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email

    @classmethod
    def from_hub(cls, me: dict[str, Any], token_id: str | None = None) -> PortalUser | None:
        """The user from ``/users/me`` (:data:`ME_FIELDS`), or None if they may not sign in:
        not active, no Tandem role, or no active organization."""
        org = me.get("organization") or {}
        if (
            me.get("status") != "active"
            or me.get("tandem_role") not in ROLES
            or org.get("status") != "active"
        ):
            return None
        return cls(
            id=str(me["id"]),
            email=me["email"],
            first_name=me.get("first_name"),
            last_name=me.get("last_name"),
            role=me["tandem_role"],
            organization_id=int(org["id"]),
            organization_name=org["name"],
            organization_kind=org["kind"],
            token_id=token_id,
        )


def identify(client: HubClient, token_id: str | None = None) -> PortalUser | None:
    """Who this hub session belongs to, if they may use the portal now.

    Keeps the session alive first. Raises :class:`directus.HubError` only when the hub
    could not answer; a session the hub refuses is None.
    """
    try:
        keep_alive(client)
        me = client.get("/users/me", fields=ME_FIELDS)
    except (AuthFailed, ForbiddenOrMissing):
        return None
    return PortalUser.from_hub(me, token_id)


def current_hub() -> HubClient:
    """The signed-in user's own hub client. Only in views that require a signed-in user."""
    if not current_user.is_authenticated:
        raise RuntimeError("current_hub() needs a signed-in user: use @login_required")
    return g.tandem_hub


def use_hub(client: HubClient) -> None:
    """Make ``client`` this request's :func:`current_hub` (for :mod:`portal.tokens`)."""
    g.tandem_hub = client


def hub_unreachable() -> None:
    """Note that the hub could not be asked who the user is: the answer becomes 503."""
    g.tandem_hub_unreachable = True


def home_url(user: PortalUser) -> str:
    return url_for(HOME_ENDPOINTS[user.role])


def role_required(*roles: str) -> Callable[[V], V]:
    """Require a signed-in user with one of these roles; anyone else gets 403. The view
    keeps them as ``tandem_roles``: the navigation offers it to those roles only."""

    def decorate(view: V) -> V:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403, "This page belongs to another role.")
            return view(*args, **kwargs)

        wrapped.tandem_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Only ``/path`` forms: no scheme, no host, no ``//`` or backslash (browsers read
    ``/\\evil`` as ``//evil``), no control characters (they drop tabs and newlines).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def bearer_token() -> str | None:
    """The bearer token of an API request, if it has one."""
    if not request.path.startswith("/api/"):
        return None
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def account_throttled(email: str) -> bool:
    """Whether this account has had too many wrong passwords lately."""
    return not limiter.limiter.test(ACCOUNT_FAILURES, "password-failures", _account_key(email))


def count_password_failure(email: str) -> None:
    limiter.limiter.hit(ACCOUNT_FAILURES, "password-failures", _account_key(email))


def _account_key(email: str) -> str:
    # The storage may be shared (Redis): keep addresses out of it.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


# -- the session cookie ---------------------------------------------------------------


def _config() -> Config:
    return current_app.extensions["tandem.config"]


def _session_fernet() -> Fernet:
    return derive_fernet(
        _config().secret_key.encode(), salt=b"tandem", purpose=b"portal session: hub session v1"
    )


def _store_session(user_id: str, tokens: Tokens) -> None:
    session[_SESSION_KEY] = seal(_session_fernet(), user_id, tokens)


@login_manager.user_loader
def _load_session_user(user_id: str) -> PortalUser | None:
    if bearer_token() is not None:
        return None  # an API call with a token speaks for itself (portal.tokens)
    sealed = session.get(_SESSION_KEY)
    max_age = int(_config().session_lifetime.total_seconds())
    opened = unseal(_session_fernet(), sealed, max_age) if isinstance(sealed, str) else None
    if opened is None or opened.user_id != user_id:
        session.clear()
        return None
    client = hub.as_user(
        opened.tokens, on_tokens=lambda t: _store_session(user_id, t), keep_reads_as=user_id
    )
    try:
        user = identify(client)
    except HubError as exc:
        log.warning("hub unreachable while loading user %s: %s", user_id, exc)
        hub_unreachable()
        return None
    if user is None or user.id != user_id:
        session.clear()  # flask-login then treats the request as anonymous
        return None
    _store_session(user_id, client.tokens or opened.tokens)  # restarts the idle clock
    use_hub(client)
    return user


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if g.get("tandem_hub_unreachable"):
        abort(503, "The data hub is not answering. Try again in a moment.")
    if request.path.startswith("/api/"):
        body = envelope(
            401,
            "UNAUTHORIZED",
            "Sign in, or send a personal API token: Authorization: Bearer tdm_…",
        )
        return body, 401, {"WWW-Authenticate": 'Bearer realm="tandem"'}
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# -- views ------------------------------------------------------------------------------


class LoginSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    email = fields.Email(
        required=True,
        error_messages={"required": "Enter your email address.", "invalid": "Not an email."},
    )
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, error="Enter your password."),
        error_messages={"required": "Enter your password."},
    )


def _login_page(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("email", request.form.get("email", ""))
    context.setdefault("next_url", safe_next(request.values.get("next")))
    return render_template("auth/login.html", **context), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(IP_LIMIT, methods=["POST"], error_message=THROTTLED)
def login() -> Any:
    """Sign in with the hub account's email and password."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or home_url(current_user))
    if request.method == "GET":
        return _login_page()
    try:
        data = LoginSchema().load(request.form)
    except ValidationError as exc:
        return _login_page(400, errors=exc.messages)
    email = data["email"]
    if account_throttled(email):
        return _login_page(429, message=THROTTLED)
    try:
        client = hub.login(email, data["password"])
    except AuthFailed:
        count_password_failure(email)
        return _login_page(401, errors={"password": ["Wrong email or password."]})
    except HubError as exc:
        if exc.status == 429:  # the hub's own throttle: direct attempts on this account
            return _login_page(429, message=THROTTLED)
        log.warning("hub refused or failed a sign-in: %s", exc)
        return _login_page(503, message="The data hub is not answering. Try again in a moment.")
    try:
        user = identify(client)
    except HubError:
        user = None
    if user is None:
        client.logout()
        return _login_page(
            403,
            message="This account cannot use Tandem: it or its organization is inactive, "
            "or it has no Tandem role.",
        )
    session.clear()
    login_user(user)
    session.permanent = True
    _store_session(user.id, client.tokens)  # type: ignore[arg-type]
    return redirect(next_url or home_url(user))


@bp.errorhandler(429)
def _throttled(_exc: Exception) -> tuple[str, int]:
    return _login_page(429, message=THROTTLED)


@bp.post("/logout")
def logout() -> Response:
    """Sign out: end the hub session, then forget the cookie's contents."""
    if current_user.is_authenticated:
        try:
            current_hub().logout()
        except HubError as exc:  # the cookie is cleared anyway; the hub session times out
            log.warning("hub logout failed: %s", exc)
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


# -- wiring -----------------------------------------------------------------------------


def _check_csrf() -> None:
    if request.method in _SAFE_METHODS or bearer_token() is not None:
        return
    if request.path.startswith("/api/") and "_user_id" not in session:
        return  # no credentials at all: nothing to forge, and the route answers 401
    csrf.protect()


def _load_user_on_every_request() -> None:
    """Ask the hub about the user on every request, so a deactivation is seen at once."""
    if request.endpoint not in ("static", "favicon"):
        _ = current_user.is_authenticated


def init_app(app: Flask) -> None:
    config: Config = app.extensions["tandem.config"]
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies
        )
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(_check_csrf)
    app.before_request(_load_user_on_every_request)
    app.register_blueprint(bp)
