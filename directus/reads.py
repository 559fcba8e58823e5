"""Reads kept between writes: a hub client's GET answers, reused while the hub's write
generation has not moved.

The hub moves its generation (``GET /tandem/generation``, migration 0030) after every
write request and in every bulk import's transaction, before anyone hears of the write.
A reader that asks for the generation first and keeps each answer under the number it
saw therefore never serves an answer from before a write it could know of: a revoked
agreement, a deactivated user, a new import. Answers are kept per identity (a user's
own reads are never another's), for at most ``ttl_s`` (the bound if a move ever failed)
and within ``max_bytes`` of bodies. A hub that keeps no generation (SQLite) answers
none, and then nothing is kept.

Used by the portal (one :class:`ReadCache` per process, one :class:`Reads` per request);
:class:`directus.HubClient` consults it for its authenticated GETs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Mapping
from typing import Any

from cachetools import TTLCache
from prometheus_client import Counter

from directus.client import HubClient, encode_query
from directus.errors import HubError

GENERATION_PATH = "/tandem/generation"

READS = Counter("tandem_hub_reads_total", "Hub reads by the read cache's answer", ["result"])


class ReadCache:
    """GET answers' bodies by (identity, generation, path, query), within a byte budget."""

    def __init__(self, max_bytes: int, ttl_s: float) -> None:
        self._lock = threading.Lock()
        self._bodies: TTLCache[Hashable, bytes] = TTLCache(
            maxsize=max_bytes, ttl=ttl_s, getsizeof=lambda body: len(body) + 200
        )
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._none_until = 0.0

    def generation(self, service: HubClient) -> str | None:
        """The hub's write generation (see :func:`generation`). A hub that keeps none is
        asked again only after ``ttl_s``: on SQLite it never will."""
        if time.monotonic() < self._none_until:
            return None
        value = generation(service)
        if value is None:
            self._none_until = time.monotonic() + self.ttl_s
        return value

    def for_identity(self, identity: str, generation: str | None) -> Reads | None:
        """The reads of one identity at one generation; None when the hub gave none."""
        if generation is None:
            return None
        return Reads(self, (identity, generation))

    def _get(self, key: Hashable) -> bytes | None:
        with self._lock:
            return self._bodies.get(key)

    def _put(self, key: Hashable, body: bytes) -> None:
        if len(body) + 200 > self.max_bytes:
            return
        with self._lock:
            self._bodies[key] = body


class Reads:
    """One identity's view of a :class:`ReadCache` at one generation."""

    def __init__(self, cache: ReadCache, scope: tuple[str, str]) -> None:
        self._cache = cache
        self._scope = scope

    def key(self, path: str, params: Mapping[str, Any]) -> Hashable:
        return (*self._scope, path, tuple(sorted(encode_query(params).items())))

    def get(self, key: Hashable) -> bytes | None:
        kept = self._cache._get(key)
        READS.labels("hit" if kept is not None else "miss").inc()
        return kept

    def put(self, key: Hashable, body: bytes) -> None:
        self._cache._put(key, body)


def generation(service: HubClient) -> str | None:
    """The hub's write generation, as a service account reads it; None if the hub keeps
    none or cannot say (then nothing may be kept)."""
    try:
        value = service.get(GENERATION_PATH)
    except HubError:
        return None
    return value if isinstance(value, str) and value else None
