"""The scheduler's Redis lease (sync/lease.py), against a real ``redis-server``."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from sync import lease
from sync.config import ConfigError, SyncConfig
from sync.lease import KEY, Lease, hold
from tandem.servers import Redis

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    if not shutil.which("redis-server"):
        pytest.skip("Redis is not installed: make test installs it")
    running = Redis(tmp_path_factory.mktemp("redis"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def url(server: Redis) -> Iterator[str]:
    yield server.url(2)
    redis.Redis.from_url(server.url(2)).flushdb()


def test_one_holder_at_a_time(url):
    first, second = Lease(url, holder="a"), Lease(url, holder="b")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert not second.renew()  # nobody renews what another holds
    assert second.current_holder() == "a"
    second.release()  # nor releases it
    assert first.current_holder() == "a"
    first.release()
    assert second.try_acquire()


def test_a_holder_takes_its_key_back_after_redis_lost_it(url):
    holder = Lease(url, holder="a")
    assert holder.try_acquire()
    redis.Redis.from_url(url).flushdb()  # as a Redis restart leaves it
    assert holder.renew()
    assert holder.current_holder() == "a"


def test_a_standby_takes_the_lease_once_a_dead_holders_expires(url):
    dead = Lease(url, ttl_s=1, holder="dead")
    assert dead.try_acquire()  # and never renews it
    with hold(url, ttl_s=1) as mine:
        assert mine.current_holder() == lease.holder_name()
    assert Lease(url).current_holder() is None  # released on the way out


def test_the_holder_stops_when_another_has_taken_its_lease(url):
    lost = threading.Event()
    with hold(url, ttl_s=0.6, on_lost=lost.set):
        redis.Redis.from_url(url).set(KEY, "usurper")
        assert lost.wait(3)


def test_a_new_holder_waits_a_renewal_before_running_and_stops_if_it_was_too_quick(url):
    """A standby that took an emptied key (Redis restarted) before the holder took it back
    runs nothing: it waits for the holder's renewal, then finds the key taken."""
    lost = threading.Event()
    store = redis.Redis.from_url(url)
    threading.Timer(0.1, lambda: store.set(KEY, "the holder, back")).start()
    started = time.monotonic()
    with hold(url, ttl_s=0.9, on_lost=lost.set):
        assert time.monotonic() - started >= 0.3  # a renewal period, and then some
        assert lost.is_set()


def test_the_holder_stops_before_its_key_could_expire_when_redis_is_gone(server, url):
    lost = threading.Event()
    with hold(url, ttl_s=6, on_lost=lost.set):
        server.stop()
        gone = time.monotonic()
        try:
            assert not lost.wait(0.5)  # a short outage is ridden out
            assert lost.wait(8)
            # its deadline came before the key's expiry (6 s after the last renewal)
            assert time.monotonic() - gone < 6
        finally:
            server.start()


def test_the_scheduler_takes_a_redis_url_as_its_lease_and_a_path_as_its_lock_file():
    base = {"TANDEM_HUB_URL": "http://hub", "TANDEM_SYNC_TOKEN": "t"}
    by_url = SyncConfig.from_env({**base, "TANDEM_SCHEDULER_LOCK": "redis://redis:6379/2"})
    assert by_url.lease_url == "redis://redis:6379/2"
    assert by_url.lease_s == 30
    by_path = SyncConfig.from_env({**base, "TANDEM_SCHEDULER_LOCK": "/var/lib/tandem/lock"})
    assert by_path.lease_url is None
    with pytest.raises(ConfigError, match="TANDEM_SCHEDULER_LEASE_SECONDS"):
        SyncConfig.from_env(
            {**base, "TANDEM_SCHEDULER_LOCK": "redis://r/2", "TANDEM_SCHEDULER_LEASE_SECONDS": "1"}
        )
