"""The one client for the Directus hub. Portal, sync, migrations, tests and benchmarks use it.

It owns a ``requests.Session``, its auth and a timeout on every call, maps Directus's
answers to the exceptions in :mod:`directus.errors`, and retries with backoff only where
a retry is safe: a 503 or a connection error, on an idempotent call.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import requests
from prometheus_client import Counter, Histogram

from directus.errors import (
    AuthFailed,
    ForbiddenOrMissing,
    HubError,
    InvalidPayload,
    RecordNotUnique,
    Unavailable,
)
from directus.logs import REQUEST_ID

log = logging.getLogger(__name__)

#: (connect, read) seconds. Every call gets a timeout; none waits forever.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 30.0)
#: Directus's default MAX_PAYLOAD_SIZE is "1mb" (1,048,576 bytes); stay under it.
DEFAULT_MAX_PAYLOAD_BYTES = 1_000_000
#: Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "SEARCH"})
#: Refresh an access token this many seconds before it expires.
REFRESH_MARGIN_S = 15.0
#: The hub's session cookie (Directus's SESSION_COOKIE_NAME default), for session mode.
SESSION_COOKIE = "directus_session_token"
#: Query parameters Directus takes as JSON, and those it takes as comma-joined lists.
_JSON_PARAMS = frozenset({"filter", "deep", "aggregate", "alias"})
_LIST_PARAMS = frozenset({"fields", "sort", "groupBy"})


@dataclass(frozen=True)
class Tokens:
    """A user's session with the hub.

    JSON mode: a short-lived access token and a rotating refresh token. Session mode
    (``refresh_token`` is None): one session token that refreshes itself. The hub checks
    it against its session table on every call, so a logout or a suspension ends it at
    once, and concurrent refreshes within the hub's SESSION_REFRESH_GRACE_PERIOD all get
    the same successor. JSON mode has no such grace: of two concurrent refreshes with one
    refresh token, the second fails or gets a refresh token the hub never stored.
    """

    access_token: str
    refresh_token: str | None
    expires_at: float  # epoch seconds

    @classmethod
    def from_auth_response(cls, data: Mapping[str, Any], now: float | None = None) -> Tokens:
        now = time.time() if now is None else now
        return cls(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=now + int(data["expires"]) / 1000.0,
        )


def encode_query(query: Mapping[str, Any]) -> dict[str, str]:
    """Turn a Python query (dicts, lists, ints) into Directus's query-string form."""
    params: dict[str, str] = {}
    for key, value in query.items():
        if value is None:
            continue
        if key in _JSON_PARAMS and not isinstance(value, str):
            params[key] = json.dumps(value, separators=(",", ":"))
        elif key in _LIST_PARAMS and not isinstance(value, str):
            params[key] = ",".join(value)
        elif isinstance(value, bool):
            params[key] = "true" if value else "false"
        else:
            params[key] = str(value)
    return params


def error_from_response(response: requests.Response) -> HubError:
    """Map a Directus error answer to the matching exception."""
    errors: list[dict[str, Any]] = []
    try:
        body = response.json()
        errors = list(body.get("errors") or []) if isinstance(body, dict) else []
    except ValueError:
        body = None
    first = errors[0] if errors else {}
    code = (first.get("extensions") or {}).get("code")
    message = first.get("message") or response.reason or f"HTTP {response.status_code}"
    status = response.status_code
    kwargs: dict[str, Any] = {"status": status, "code": code, "errors": errors}
    if status == 401:
        return AuthFailed(message, **kwargs)
    if status in (403, 404):
        return ForbiddenOrMissing(message, **kwargs)
    if code == "RECORD_NOT_UNIQUE":
        return RecordNotUnique(message, **kwargs)
    if status in (400, 413, 422):
        return InvalidPayload(message, **kwargs)
    if status in (429, 502, 503, 504):
        return Unavailable(message, **kwargs)
    return HubError(message, **kwargs)


JSON_BODY = {"Content-Type": "application/json"}


def compact_json(body: Any) -> bytes:
    """A JSON body as the hub receives it: compact, as :func:`chunk_by_payload` measures
    it (requests' own encoding adds a space after every comma and colon, which can take a
    batch measured under the hub's limit over it)."""
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


def chunk_by_payload(
    items: Iterable[Mapping[str, Any]], max_bytes: int
) -> Iterator[list[Mapping[str, Any]]]:
    """Group items into lists whose JSON array encoding stays within ``max_bytes``.

    Raises :class:`InvalidPayload` for a single item that alone is too large.
    """
    chunk: list[Mapping[str, Any]] = []
    size = 2  # the brackets
    for index, item in enumerate(items):
        item_size = len(compact_json(item)) + 1  # + comma
        if item_size + 2 > max_bytes:
            raise InvalidPayload(
                f"item {index} is {item_size} bytes, over the hub's payload limit of {max_bytes}"
            )
        if chunk and size + item_size > max_bytes:
            yield chunk
            chunk, size = [], 2
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


#: Every hub call, by method, resource (``items/<collection>``, ``users/me``; ids folded)
#: and HTTP status (``unreachable``: no answer), and how long each took.
HUB_CALLS = Counter("tandem_hub_calls_total", "Calls to the hub", ["method", "resource", "status"])
HUB_SECONDS = Histogram(
    "tandem_hub_call_seconds",
    "Hub call latency",
    ["method", "resource"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_ID_SEGMENT = re.compile(r"\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|.*:.*")


def _resource(path: str) -> str:
    """The first two segments of a hub path, ids folded to ``:id`` (bounded label values)."""
    parts = [part for part in path.split("?", 1)[0].strip("/").split("/") if part][:2]
    return "/".join(":id" if _ID_SEGMENT.fullmatch(part) else part for part in parts)


def _observe(method: str, resource: str, status: str, started: float) -> None:
    HUB_CALLS.labels(method, resource, status).inc()
    HUB_SECONDS.labels(method, resource).observe(time.perf_counter() - started)


class KeptReads(Protocol):
    """Where a client keeps its GET answers between the hub's writes (:mod:`directus.reads`)."""

    def key(self, path: str, params: Mapping[str, Any]) -> Hashable: ...

    def get(self, key: Hashable) -> bytes | None: ...

    def put(self, key: Hashable, body: bytes) -> None: ...


class HubClient:
    """A client for one hub, acting as one identity: anonymous, a static token, or a user.

    A user identity (:meth:`login`) refreshes its access token before it expires, and
    once more if the hub says it has; ``on_tokens`` is called with every new pair so a
    caller (the portal's session) can keep it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        tokens: Tokens | None = None,
        on_tokens: Callable[[Tokens], None] | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        reads: KeptReads | None = None,
    ) -> None:
        if token and tokens:
            raise ValueError("give a static token or user tokens, not both")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_payload_bytes = max_payload_bytes
        self._static_token = token
        self._tokens = tokens
        self._on_tokens = on_tokens
        self._refresh_lock = threading.Lock()
        self.reads = reads
        self.session = session or requests.Session()
        self.session.headers.setdefault("Accept", "application/json")
        if user_agent is not None:
            # The hub records it with each session this client opens or refreshes.
            self.session.headers["User-Agent"] = user_agent

    # -- identity -------------------------------------------------------------------

    @classmethod
    def login(
        cls, base_url: str, email: str, password: str, *, session: bool = False, **kwargs: Any
    ) -> HubClient:
        """Sign in as a user; raises :class:`AuthFailed` on bad credentials.

        ``session=True`` opens a session-mode session (see :class:`Tokens`): use it where
        concurrent requests may refresh one session, as the portal's do.
        """
        client = cls(base_url, **kwargs)
        credentials = {"email": email, "password": password}
        if session:
            client._set_tokens(client._session_call("/auth/login", credentials))
            return client
        data = client.request("POST", "/auth/login", json=credentials, auth=False)
        client._set_tokens(Tokens.from_auth_response(data))
        return client

    def _session_call(self, path: str, body: Mapping[str, Any], token: str | None = None) -> Tokens:
        """Log in or refresh in session mode: the hub answers with its session cookie."""
        response = self._session_post(path, body, token)
        new_token = response.cookies.get(SESSION_COOKIE)
        if not new_token:
            raise HubError(f"POST {path}: the hub set no {SESSION_COOKIE} cookie")
        expires_ms = int(_body_data(response)["expires"])
        return Tokens(new_token, None, time.time() + expires_ms / 1000.0)

    def _session_post(
        self, path: str, body: Mapping[str, Any], token: str | None
    ) -> requests.Response:
        """POST a session-mode auth call, the session token (if any) in the hub's cookie."""
        try:
            response = self.session.post(
                f"{self.base_url}{path}",
                json={**body, "mode": "session"},
                cookies={SESSION_COOKIE: token} if token else None,
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Unavailable(f"POST {path}: {exc.__class__.__name__}: {exc}") from exc
        finally:
            self.session.cookies.clear()  # the token lives in Tokens, not in the cookie jar
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    @property
    def tokens(self) -> Tokens | None:
        return self._tokens

    def _set_tokens(self, tokens: Tokens) -> None:
        self._tokens = tokens
        if self._on_tokens:
            self._on_tokens(tokens)

    def refresh(self) -> Tokens:
        """Exchange the refresh token for a new pair (Directus rotates both)."""
        return self._refresh(stale=None)

    def _refresh(self, stale: Tokens | None) -> Tokens:
        """Refresh, unless another thread already replaced the ``stale`` pair meanwhile."""
        with self._refresh_lock:
            current = self._tokens
            if current is None:
                raise AuthFailed("no user session to refresh")
            if stale is not None and current is not stale:
                return current
            if current.refresh_token is None:
                self._set_tokens(self._session_call("/auth/refresh", {}, current.access_token))
            else:
                data = self.request(
                    "POST",
                    "/auth/refresh",
                    json={"refresh_token": current.refresh_token, "mode": "json"},
                    auth=False,
                )
                self._set_tokens(Tokens.from_auth_response(data))
            return self._tokens  # type: ignore[return-value]

    def logout(self) -> None:
        """End the user's hub session; its refresh (or session) token stops working."""
        tokens = self._tokens
        if tokens is None:
            return
        try:
            if tokens.refresh_token is None:
                self._session_post("/auth/logout", {}, tokens.access_token)
            else:
                self.request(
                    "POST",
                    "/auth/logout",
                    json={"refresh_token": tokens.refresh_token, "mode": "json"},
                    auth=False,
                )
        finally:
            self._tokens = None

    def _auth_header(self) -> dict[str, str]:
        if self._static_token:
            return {"Authorization": f"Bearer {self._static_token}"}
        tokens = self._tokens
        if tokens is None:
            return {}
        if tokens.expires_at - REFRESH_MARGIN_S <= time.time():
            tokens = self._refresh(stale=tokens)
        return {"Authorization": f"Bearer {tokens.access_token}"}

    # -- transport ------------------------------------------------------------------

    def ping(self) -> bool:
        """Whether the hub answers its liveness check."""
        try:
            response = self.session.get(f"{self.base_url}/server/ping", timeout=self.timeout)
        except requests.RequestException:
            return False
        return response.status_code == 200 and response.text.strip('"') == "pong"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        idempotent: bool | None = None,
        auth: bool = True,
    ) -> Any:
        """Send one call and return the body's ``data`` (or the whole body if it has none).

        ``idempotent`` defaults to what the method says; pass True only for a call that
        is safe to repeat.
        """
        method = method.upper()
        reads, kept_as = self.reads, None
        if method != "GET" and auth:
            # This write moves the hub's generation: what was kept before it is not read
            # again by this client.
            self.reads = reads = None
        elif auth and reads is not None:
            kept_as = reads.key(path, params or {})
            kept = reads.get(kept_as)
            if kept is not None:
                return _json_data(kept)
        retry_allowed = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = f"{self.base_url}/{path.lstrip('/')}"
        query = encode_query(params or {})
        refreshed = False
        attempt = 0
        while True:
            headers = self._auth_header() if auth else {}
            request_id = REQUEST_ID.get()
            if request_id:
                headers = {**headers, "X-Request-Id": request_id}
            sent_tokens = self._tokens
            resource = _resource(path)
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=query,
                    data=data if json is None else compact_json(json),
                    files=files,
                    headers=headers if json is None else {**headers, **JSON_BODY},
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                _observe(method, resource, "unreachable", started)
                if retry_allowed and attempt < self.max_retries:
                    attempt += 1
                    self._sleep_before_retry(attempt, None)
                    continue
                raise Unavailable(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc
            _observe(method, resource, str(response.status_code), started)
            if response.status_code < 400:
                json_body = "json" in response.headers.get("Content-Type", "")
                keep = kept_as is not None and response.status_code == 200 and json_body
                if keep and reads is not None and self.reads is reads:
                    reads.put(kept_as, response.content)
                return _body_data(response)
            error = error_from_response(response)
            if (
                isinstance(error, AuthFailed)
                and error.code == "TOKEN_EXPIRED"
                and auth
                and sent_tokens is not None
                and not refreshed
            ):
                self._refresh(stale=sent_tokens)
                refreshed = True
                continue
            if response.status_code == 503 and retry_allowed and attempt < self.max_retries:
                attempt += 1
                self._sleep_before_retry(attempt, response.headers.get("Retry-After"))
                continue
            raise error

    def _sleep_before_retry(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff_s * (2 ** (attempt - 1)) * (1 + random.random() / 2)  # noqa: S311
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 30.0))
        log.info("hub unavailable, retry %d/%d in %.2fs", attempt, self.max_retries, delay)
        time.sleep(delay)

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, params=query)

    def post(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.request("POST", path, params=query, json=body)

    def patch(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.request("PATCH", path, params=query, json=body)

    def delete(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.request("DELETE", path, params=query, json=body)

    # -- items ----------------------------------------------------------------------

    def read_items(self, collection: str, **query: Any) -> list[dict[str, Any]]:
        """One page of items; pass ``limit=-1`` for all (or use :meth:`iter_items`)."""
        return self.get(f"/items/{collection}", **query)

    def iter_items(
        self,
        collection: str,
        *,
        page_size: int = 500,
        sort: Sequence[str] = ("id",),
        max_page_size: int | None = None,
        **query: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every item matching the query, fetched a page at a time in a stable order.

        Pages by offset, so each page costs the hub more than the one before: prefer
        :meth:`iter_by_key` wherever the sort's fields can be compared by the hub. With
        ``max_page_size``, pages start at ``page_size`` and double up to it: the first
        rows come at once, and fewer, larger pages re-read fewer rows in all.
        """
        offset, size = 0, page_size
        while True:
            page = self.get(f"/items/{collection}", limit=size, offset=offset, sort=sort, **query)
            yield from page
            if len(page) < size:
                return
            offset += size
            size = min(size * 2, max(max_page_size or page_size, page_size))

    def iter_by_key(
        self,
        collection: str,
        *,
        page_size: int = 1000,
        sort: Sequence[str] = ("id",),
        key: str = "id",
        filter: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        max_page_size: int | None = None,
        **query: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every item matching the query, in ``sort`` order, a page at a time by key.

        Keyset paging: each page asks for the rows after the last one seen (with a sort
        on a field, ``(field, key) > (value, last)``; by the key alone, ranges of it, see
        :meth:`iter_in_order`), so every page costs what the first does, and a row
        written or deleted meanwhile never makes another row repeat or go missing.
        (Paging by offset makes the hub read and drop every earlier row again for each
        page, and skips a row for each one deleted.)

        ``sort`` is the key alone, or one field then the key, each ascending or
        descending (``-``). The hub compares numbers, dates and timestamps, not text
        (Directus 11.17.4 has no ``_gt`` for string fields): both must be of those kinds.
        Rows with no value in the field come first ascending and last descending, on any
        database: they are read as their own run, by key, so the order never depends on
        where the database puts nulls. The sort field and the key are always read. With
        ``max_page_size``, pages start at ``page_size`` and double up to it: the first
        rows come at once, and a long walk pays the hub's cost per request fewer times.
        """
        *head, tail = sort
        if tail.lstrip("-") != key or len(head) > 1 or any(h.lstrip("-") == key for h in head):
            raise ValueError(f"sort by the key {key!r}, or by one field and then the key")
        if fields is not None:
            wanted = [key, *(h.lstrip("-") for h in head)]
            fields = [*fields, *(f for f in wanted if f not in fields)]
        read = functools.partial(
            self._keyset_run, collection, fields=fields, query=query,
            sizes=(page_size, max(max_page_size or page_size, page_size)),
        )  # fmt: skip
        if not head:  # a range walk by the key alone
            yield from self.iter_in_order(
                collection, [tail], page_size=page_size,
                max_page_size=max(max_page_size or 0, page_size, 2), filter=filter,
                fields=fields, **query,
            )  # fmt: skip
            return
        field = head[0].lstrip("-")
        valued = (_all_of(filter, {field: {"_nnull": True}}), [head[0], tail])
        empty = (_all_of(filter, {field: {"_null": True}}), [tail])
        for where, order in (valued, empty) if head[0].startswith("-") else (empty, valued):
            yield from read(where, order)

    def _keyset_run(
        self,
        collection: str,
        where: Mapping[str, Any] | None,
        order: Sequence[str],
        *,
        sizes: tuple[int, int],
        fields: Sequence[str] | None,
        query: Mapping[str, Any],
    ) -> Iterator[dict[str, Any]]:
        """The rows of ``where`` in ``order`` (no nulls in its fields), by keyset pages
        of ``sizes[0]`` rows, doubling up to ``sizes[1]``."""
        after: dict[str, Any] | None = None
        size, largest = sizes
        while True:
            page = self.get(
                f"/items/{collection}",
                filter=_all_of(where, after),
                sort=list(order),
                limit=size,
                fields=list(fields) if fields is not None else None,
                **query,
            )
            yield from page
            if len(page) < size:
                return
            size = min(size * 2, largest)
            last = page[-1]
            following = _after(order, last)
            if following == after:
                raise HubError(f"GET /items/{collection}: a page did not move past its last row")
            after = following

    def iter_in_order(
        self,
        collection: str,
        order: Sequence[str],
        *,
        page_size: int = 1000,
        max_page_size: int | None = None,
        filter: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        **query: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every item matching ``filter`` in ``order``, read as ranges of its fields.

        ``order`` is a total order of fields that are never empty, each an integer or a
        date and each ascending or descending (``-``): e.g. a natural key such as POS's
        ``(day, location, sku, distributor)``. The walk reads the first field's least and
        greatest value, then ranges of it whose widths follow the rows each range held,
        aiming at pages of ``page_size`` rows that double up to half ``max_page_size``;
        no page holds more than ``max_page_size`` rows (twice the aim). A range that holds
        more is cut: the rows before the page's last value are whole and go out, and the
        walk reads on from that value; a page that holds one value only is read on by the
        next field, within that value, from the page's last value of it.

        Why ranges: a page "the first N rows after this one" makes the hub sort every row
        the caller may see whenever its row rules join other tables (Directus then reads
        the keys distinct, which no index serves), so each page costs what the whole
        collection does; a range is read from an index, and costs what it holds. Every
        page costs the same wherever it lies, as keyset paging's do, and a row written or
        deleted meanwhile never makes another repeat or go missing. Rows stored after the
        walk began beyond the first field's greatest value are not read.
        """
        names = [spec.lstrip("-") for spec in order]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"an order of distinct fields, not {list(order)!r}")
        if max_page_size is not None and max_page_size < 2:
            raise ValueError("a page holds 2 rows at least: one to read on from, one more")
        if fields is not None:
            fields = [*fields, *(n for n in names if n not in fields)]
        largest = max(max_page_size or 2 * page_size, 2)
        walk = _Walk(self, collection, fields, query, _PageSize(page_size, largest))
        yield from walk.rows(list(order), filter, None, 1)

    def count_items(
        self, collection: str, filter: Mapping[str, Any] | None = None, key: str = "id"
    ) -> int:
        """How many items the caller may see, optionally filtered.

        ``countDistinct`` of the primary key: Directus's ``count(*)`` counts a row once per
        policy that lets the caller read it, so a row two policies allow counts twice.
        """
        rows = self.aggregate(collection, {"countDistinct": [key]}, filter=filter)
        return int(rows[0]["countDistinct"][key]) if rows else 0

    def read_item(self, collection: str, key: str | int, **query: Any) -> dict[str, Any]:
        return self.get(f"/items/{collection}/{key}", **query)

    def create_item(self, collection: str, item: Mapping[str, Any], **query: Any) -> dict[str, Any]:
        return self.post(f"/items/{collection}", dict(item), **query)

    def create_items(self, collection: str, items: Iterable[Mapping[str, Any]]) -> int:
        """Create items in batches that stay under the hub's payload limit.

        Each batch is one transaction in the hub; batches are not atomic together.
        Generate primary keys yourself: Directus does not promise the response order.
        Returns how many items were created.
        """
        created = 0
        for chunk in chunk_by_payload(items, self.max_payload_bytes):
            self.request("POST", f"/items/{collection}", json=chunk)
            created += len(chunk)
        return created

    def update_item(
        self, collection: str, key: str | int, changes: Mapping[str, Any], **query: Any
    ) -> dict[str, Any]:
        return self.patch(f"/items/{collection}/{key}", dict(changes), **query)

    def delete_item(self, collection: str, key: str | int) -> None:
        self.delete(f"/items/{collection}/{key}")

    def delete_items(self, collection: str, keys: Sequence[str | int]) -> None:
        if keys:
            self.delete(f"/items/{collection}", list(keys))

    def aggregate(
        self,
        collection: str,
        functions: Mapping[str, Sequence[str]],
        *,
        group_by: Sequence[str] = (),
        filter: Mapping[str, Any] | None = None,
        sort: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Aggregate items, e.g. ``{"sum": ["units"]}``, grouped; every group is returned.

        ``limit=-1`` is always sent: Directus's default limit would cut the groups.
        """
        return self.get(
            f"/items/{collection}",
            aggregate={fn: list(fields) for fn, fields in functions.items()},
            groupBy=list(group_by) or None,
            filter=filter,
            sort=list(sort) or None,
            limit=-1,
        )


def _all_of(*filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The filters together (None where there are none)."""
    parts = [dict(f) for f in filters if f]
    if len(parts) < 2:
        return parts[0] if parts else None
    return {"_and": parts}


def _after(order: Sequence[str], row: Mapping[str, Any]) -> dict[str, Any]:
    """The rows after ``row`` in ``order`` (no nulls in its fields): for ``(a, b)``,
    ``a`` past the row's, or ``a`` equal and ``b`` past the row's."""
    clauses = []
    for n, spec in enumerate(order):
        name = spec.lstrip("-")
        past = {name: {"_lt" if spec.startswith("-") else "_gt": row[name]}}
        equal = [{s.lstrip("-"): {"_eq": row[s.lstrip("-")]}} for s in order[:n]]
        clauses.append({"_and": [*equal, past]} if equal else past)
    return clauses[0] if len(clauses) == 1 else {"_or": clauses}


class _PageSize:
    """The rows a range should hold (``aim``: doubling up to half ``largest``) and the
    most a page may hold (``limit``, twice the aim)."""

    def __init__(self, first: int, largest: int) -> None:
        self.largest = largest
        self.aim = max(1, min(first, largest // 2))

    @property
    def limit(self) -> int:
        return 2 * self.aim

    def grow(self) -> None:
        self.aim = max(1, min(self.aim * 2, self.largest // 2))


def _ordinal(value: Any) -> tuple[int, Callable[[int], Any]]:
    """A field's value as an integer, and the way back: integers as they are, dates
    (``YYYY-MM-DD``, also as the start of a timestamp) as their day number."""
    if isinstance(value, int):
        return value, int
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text), int
    day = dt.date.fromisoformat(text[:10])
    return day.toordinal(), lambda n: dt.date.fromordinal(n).isoformat()


@dataclass
class _Walk:
    """One :meth:`HubClient.iter_in_order` walk: the query it repeats, and its page size."""

    hub: HubClient
    collection: str
    fields: Sequence[str] | None
    query: Mapping[str, Any]
    size: _PageSize

    def rows(
        self,
        order: list[str],
        where: Mapping[str, Any] | None,
        start: Any,
        width: int,
    ) -> Iterator[dict[str, Any]]:
        """The rows of ``where`` in ``order``, from ``start`` of its first field on
        (None: from its first value), by ranges first ``width`` values wide."""
        spec, name = order[0], order[0].lstrip("-")
        down = spec.startswith("-")
        begun = {name: {"_lte" if down else "_gte": start}} if start is not None else None
        found = self.hub.aggregate(
            self.collection, {"min": [name], "max": [name]}, filter=_all_of(where, begun)
        )
        bounds = found[0] if found else {}
        low, high = (bounds.get(f, {}).get(name) for f in ("min", "max"))
        if low is None or high is None:
            return
        (low_n, value), (high_n, _) = _ordinal(low), _ordinal(high)
        edge, end, step = (high_n, low_n, -1) if down else (low_n, high_n, 1)
        while (edge - end) * step <= 0:
            near = max(edge - width + 1, end) if down else min(edge + width - 1, end)
            lo, hi = (near, edge) if down else (edge, near)
            span = {name: {"_gte": value(lo), "_lte": value(hi)}}
            page = self.hub.get(
                f"/items/{self.collection}",
                filter=_all_of(where, span),
                sort=order,
                limit=self.size.limit,
                fields=list(self.fields) if self.fields is not None else None,
                **self.query,
            )
            if len(page) < self.size.limit:
                yield from page
                edge = near + step
                held = len(page)
                self.size.grow()
                width = max(1, min(width * 8, width * self.size.aim // held) if held else width * 8)
                continue
            last = page[-1][name]
            whole = [row for row in page if row[name] != last]
            if whole:  # cut: what came before the last value is whole
                yield from whole
                edge, read = _ordinal(last)[0], edge
                width = max(1, abs(edge - read))
                continue
            if len(order) == 1:
                raise HubError(
                    f"GET /items/{self.collection}: a page holds one value of {name}: "
                    "the order is not total"
                )
            # One value fills the page: read it on by the next field, from the page's
            # last value of that field (the rows before that one are whole).
            following = order[1].lstrip("-")
            after = page[-1][following]
            yield from (row for row in page if row[following] != after)
            first_n, last_n = _ordinal(page[0][following])[0], _ordinal(after)[0]
            spread = max(1, abs(last_n - first_n) * self.size.aim // len(page))
            yield from self.rows(order[1:], _all_of(where, {name: {"_eq": last}}), after, spread)
            edge = _ordinal(last)[0] + step


def _decode(content: bytes) -> Any:
    """JSON text as Python values: by orjson (twice the stdlib's speed on a page of rows),
    or by the stdlib where orjson refuses (an integer past 64 bits)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def _body_data(response: requests.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    if "json" not in response.headers.get("Content-Type", ""):
        return response.text
    return _json_data(response.content)


def _json_data(content: bytes) -> Any:
    body = _decode(content)
    if isinstance(body, dict) and "data" in body:
        return body["data"]
    return body
