"""The scheduler's lease in Redis: exactly one scheduler runs jobs, whichever host it is on.

A lock file holds only among processes that share its volume. The lease is one Redis key
(``SET NX PX``) naming its holder, renewed every third of its time to live. Another
scheduler stands by until the key is free, then takes it: a holder that dies (killed,
host lost) is replaced within one time to live and a third (its last renewal's age, then
the standby's next look).

A holder stops at once (:func:`hold` calls ``on_lost``) when the key names somebody else,
and, when Redis does not answer, before its key can expire: its deadline is the time its
last successful renewal was sent, plus the time to live, less a margin and a call's
timeout. A Redis restart empties the key; the holder takes it back at its next renewal
unless a standby was quicker, and then it stops. So that the two never run together then,
a new holder waits one renewal period and a margin, and checks the key is still its own,
before it runs anything.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis

log = logging.getLogger("sync.lease")

KEY = "tandem:scheduler"

# Renew only our own lease; take back an empty key (Redis restarted); 0: somebody else's.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif not holder then
  return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def holder_name() -> str:
    """Who this process is, as the lease names it: host and pid."""
    return f"{socket.gethostname()} pid {os.getpid()}"


class Lease:
    """One holder's view of the lease key."""

    def __init__(self, url: str, *, ttl_s: float = 30.0, holder: str | None = None) -> None:
        #: How long one call to Redis may take: well inside a renewal period.
        self.call_timeout_s = min(2.0, ttl_s / 6)
        self.client = redis.Redis.from_url(
            url, socket_timeout=self.call_timeout_s, socket_connect_timeout=self.call_timeout_s
        )
        self.ttl_s = ttl_s
        self.ttl_ms = int(ttl_s * 1000)
        self.holder = holder or holder_name()
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def try_acquire(self) -> bool:
        return bool(self.client.set(KEY, self.holder, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        """Extend our lease (or take back an emptied key); False: another holds it."""
        return bool(self._renew(keys=[KEY], args=[self.holder, self.ttl_ms]))

    def release(self) -> None:
        self._release(keys=[KEY], args=[self.holder])

    def current_holder(self) -> str | None:
        value = self.client.get(KEY)
        return value.decode() if isinstance(value, bytes) else None


def _margin(lease: Lease) -> float:
    """Room before the key expires: a call's timeout, and a tenth of the time to live."""
    return lease.call_timeout_s + lease.ttl_s / 10


def _lost() -> None:  # pragma: no cover - ends the process
    log.critical("the scheduler lost its lease; stopping at once so that one scheduler runs")
    logging.shutdown()
    os._exit(3)


@contextmanager
def hold(
    url: str,
    *,
    ttl_s: float = 30.0,
    on_lost: Callable[[], None] = _lost,
) -> Iterator[Lease]:
    """Wait for the lease, then hold it (renewing it in a thread) while the block runs.

    A standby waits in :func:`time.sleep`, so SIGTERM ends it as any idle process."""
    lease = Lease(url, ttl_s=ttl_s)
    waited = False
    while True:
        try:
            if lease.try_acquire():
                break
            holder = lease.current_holder()
        except redis.RedisError as exc:
            holder = f"nobody reachable ({exc})"
        if not waited:
            log.warning("standing by: the scheduler lease is held by %s", holder)
            waited = True
        time.sleep(ttl_s / 3)
    # A standby quicker than the holder at an emptied key: give the holder one renewal
    # to see it and stop before anything runs here.
    acquired = time.monotonic()
    time.sleep(ttl_s / 3 + _margin(lease))
    while True:
        try:
            if not lease.renew():
                on_lost()
            break
        except redis.RedisError as exc:
            if time.monotonic() >= acquired + ttl_s - _margin(lease):
                log.error("Redis did not answer while the lease was being confirmed: %s", exc)
                on_lost()
                break
            time.sleep(0.2)
    log.info("holding the scheduler lease as %s", lease.holder)
    done = threading.Event()

    def keep() -> None:
        deadline = time.monotonic() + ttl_s - _margin(lease)
        while not done.wait(max(0.0, min(ttl_s / 3, deadline - time.monotonic()))):
            sent = time.monotonic()
            if sent >= deadline:
                log.error("Redis has not answered for most of the lease's %.0fs", ttl_s)
                on_lost()
                return
            try:
                if not lease.renew():
                    on_lost()
                    return
                deadline = sent + ttl_s - _margin(lease)
            except redis.RedisError as exc:
                log.warning("could not renew the scheduler lease (will retry): %s", exc)

    keeper = threading.Thread(target=keep, name="scheduler-lease", daemon=True)
    keeper.start()
    try:
        yield lease
    finally:
        done.set()
        keeper.join()
        try:
            lease.release()
        except redis.RedisError as exc:
            log.warning("could not release the scheduler lease (it expires by itself): %s", exc)
