"""Sending an interchange to a partner's HTTPS endpoint: one POST, retried with
exponential backoff while the partner is unreachable or busy, under an idempotency key
so that a retry of a POST that did arrive is recognised, not applied twice.

The body goes as ``application/octet-stream``: EDI text sent as ``application/edi-x12``
has its line endings rewritten by some proxies (../shared/notes/edi.md).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests

#: Answers worth another try: the partner is busy or failing for now.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class Undeliverable(RuntimeError):
    """The partner refused the interchange (a 4xx other than busy), or answered with a
    redirect (its address is not the one in its profile): retrying will not help."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        super().__init__(f"the partner refused it: HTTP {status}: {body[:200]}")


class Unreachable(RuntimeError):
    """Every attempt failed (no connection, a timeout or a busy answer); try again later."""

    def __init__(self, attempts: int, last: str) -> None:
        self.attempts = attempts
        super().__init__(f"no answer after {attempts} attempts; the last: {last}")


@dataclass
class HttpsSender:
    """POSTs interchanges to one partner URL. ``sleep`` and ``jitter`` are inputs so that
    tests see the backoff without waiting for it."""

    url: str
    session: requests.Session = field(default_factory=requests.Session)
    attempts: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    timeout: tuple[float, float] = (3.05, 30.0)
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    waits: list[float] = field(default_factory=list)  # what the last send waited, in order

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """How long to wait after failed attempt ``attempt`` (1-based): the partner's
        ``Retry-After`` seconds if it gave some, else doubling from ``backoff_s`` with up
        to half of it again as jitter; never more than ``max_backoff_s``."""
        if retry_after and retry_after.strip().isascii() and retry_after.strip().isdigit():
            return min(float(retry_after.strip()), self.max_backoff_s)
        base = self.backoff_s * 2 ** (attempt - 1)
        return min(base * (1 + self.jitter() / 2), self.max_backoff_s)

    def send(
        self, name: str, payload: bytes, key: str, headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        """POST ``payload`` as file ``name`` with ``Idempotency-Key: key``; the 2xx answer,
        or :class:`Undeliverable` / :class:`Unreachable`. ``headers`` replace the defaults
        (an AS2 message brings its own Content-Type)."""
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Idempotency-Key": key,
            **(headers or {}),
        }
        self.waits = []
        last = ""
        for attempt in range(1, self.attempts + 1):
            retry_after = None
            try:
                answer = self.session.post(
                    self.url, data=payload, headers=headers, timeout=self.timeout,
                    allow_redirects=False,  # a redirected POST becomes a GET: never delivered
                )  # fmt: skip
            except (requests.ConnectionError, requests.Timeout) as error:
                last = f"{type(error).__name__}: {error}"
            else:
                if 200 <= answer.status_code < 300:
                    return answer
                if answer.status_code not in RETRY_STATUSES:  # refused, or redirected
                    raise Undeliverable(answer.status_code, answer.text)
                last = f"HTTP {answer.status_code}"
                retry_after = answer.headers.get("Retry-After")
            if attempt < self.attempts:
                wait = self.delay(attempt, retry_after)
                self.waits.append(wait)
                self.sleep(wait)
        raise Unreachable(self.attempts, last)
