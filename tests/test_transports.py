"""How interchanges travel: folder mailboxes (sync.mailbox) and HTTPS POSTs with retries,
backoff and an idempotency key (sync.https), the latter against a real partner process
on loopback (tests/partner_http.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from directus.process import free_port
from sync.https import HttpsSender, Undeliverable, Unreachable
from sync.mailbox import (
    Conflict,
    TooLarge,
    deliver,
    move_unique,
    quarantine,
    read_bounded,
    ready_files,
)
from tests.helpers import serving

PARTNER = Path(__file__).with_name("partner_http.py")
INTERCHANGE = b"ISA*00*...~\r\nGS*PO*...~\r\n"  # CR/LF must arrive as sent


# --- folder mailboxes ------------------------------------------------------------------
def test_a_delivery_is_whole_or_absent_and_a_redelivery_replaces_it(tmp_path):
    outbox = tmp_path / "to_partner"
    delivered = deliver(outbox, "000000042.x12", b"first")
    settled = delivered.stat().st_mtime + 1  # "now" is the file's own time: no clock read
    assert ready_files(outbox, 0, settled) == [outbox / "000000042.x12"]
    deliver(outbox, "000000042.x12", INTERCHANGE)  # again, after a crash say
    assert [p.name for p in outbox.iterdir()] == ["000000042.x12"]  # no .part left
    assert (outbox / "000000042.x12").read_bytes() == INTERCHANGE
    for bad in ("", "../escape", "a/b", ".hidden"):
        with pytest.raises(ValueError, match="not a plain file name"):
            deliver(outbox, bad, b"x")


def test_a_kept_delivery_takes_the_same_content_again_and_refuses_other_content(tmp_path):
    inbox = tmp_path / "inbox"
    deliver(inbox, "a.edi", b"first", replace=False)
    deliver(inbox, "a.edi", iter([b"fir", b"st"]), replace=False)  # the same, in chunks
    with pytest.raises(Conflict, match="with other content"):
        deliver(inbox, "a.edi", b"second", replace=False)
    assert [(p.name, p.read_bytes()) for p in inbox.iterdir()] == [("a.edi", b"first")]


def test_a_payload_that_fails_midway_leaves_nothing(tmp_path):
    def broken():
        yield b"half"
        raise ConnectionResetError("the sender went away")

    with pytest.raises(ConnectionResetError):
        deliver(tmp_path / "inbox", "a.edi", broken())
    assert list((tmp_path / "inbox").iterdir()) == []


def test_a_reader_never_takes_a_partial_or_unsettled_file(tmp_path):
    inbox = tmp_path / "from_partner"
    inbox.mkdir()
    for name in ("a.x12", ".b.x12.part", "c.x12.tmp", "d.x12.partial", ".e"):
        (inbox / name).write_bytes(b"x")
    now = (inbox / "a.x12").stat().st_mtime  # the files' own time: no clock read
    assert ready_files(inbox, 0, now + 1) == [inbox / "a.x12"]
    assert ready_files(inbox, 60, now) == []  # just written: not settled
    assert ready_files(tmp_path / "missing", 0, now) == []
    secret = tmp_path / "secret.txt"
    secret.write_text("not the partner's")
    (inbox / "z.x12").symlink_to(secret)  # a link is never read as the partner's file
    assert ready_files(inbox, 0, now + 1) == [inbox / "a.x12"]


def test_refused_files_keep_their_reason_and_nothing_is_overwritten(tmp_path):
    inbox, rejected = tmp_path / "in", tmp_path / "rejected"
    inbox.mkdir()
    for _ in range(2):
        (inbox / "po.edi").write_bytes(b"garbage")
        quarantine(inbox / "po.edi", rejected, "segment 3: ST01 expected 850")
    assert sorted(p.name for p in rejected.iterdir()) == [
        "po.1.edi", "po.1.edi.reason.txt", "po.edi", "po.edi.reason.txt",
    ]  # fmt: skip
    assert (rejected / "po.1.edi.reason.txt").read_text() == "segment 3: ST01 expected 850\n"
    (inbox / "x").write_bytes(b"1")
    assert move_unique(inbox / "x", tmp_path / "archive").read_bytes() == b"1"


def test_a_file_past_the_limit_is_refused_without_being_read(tmp_path):
    huge = tmp_path / "huge.edi"
    with huge.open("wb") as out:  # 100 MB, sparse: no memory, no disk
        out.truncate(100 * 1024 * 1024)
    with pytest.raises(TooLarge, match="104,857,600 bytes; the most this takes is 20,000,000"):
        read_bounded(huge, 20_000_000)
    small = tmp_path / "small.edi"
    small.write_bytes(INTERCHANGE)
    assert read_bounded(small, 20_000_000) == INTERCHANGE


# --- HTTPS -------------------------------------------------------------------------------
class Partner:
    def __init__(self, port: int, state: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.state = state

    @property
    def requests(self) -> int:
        counted = self.state / "requests"
        return int(counted.read_text()) if counted.exists() else 0

    def stored(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.state.iterdir() if p.name != "requests"}


def _start(tmp_path: Path, fail_first: int) -> Iterator[Partner]:
    port, state = free_port(), tmp_path / "partner"
    state.mkdir()
    argv = [sys.executable, str(PARTNER), str(port), str(state), str(fail_first)]
    with serving(argv, f"http://127.0.0.1:{port}/"):
        yield Partner(port, state)


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[Partner]:
    yield from _start(tmp_path, fail_first=0)


@pytest.fixture
def busy_partner(tmp_path: Path) -> Iterator[Partner]:
    yield from _start(tmp_path, fail_first=2)


def _sender(url: str, **options: object) -> HttpsSender:
    return HttpsSender(url, sleep=lambda _s: None, jitter=lambda: 0.0, **options)  # type: ignore[arg-type]


def test_an_interchange_arrives_byte_for_byte_once(partner):
    sender = _sender(partner.url + "/edi")
    answer = sender.send("000000042.x12", INTERCHANGE, key="tandem-42")
    assert answer.status_code == 201
    assert partner.stored() == {"tandem-42": INTERCHANGE}
    again = sender.send("000000042.x12", INTERCHANGE, key="tandem-42")  # a retry that arrived
    assert again.status_code == 200
    assert partner.stored() == {"tandem-42": INTERCHANGE}
    assert partner.requests == 2


def test_a_busy_partner_is_retried_after_what_it_asks_then_reached(busy_partner):
    sender = _sender(busy_partner.url + "/edi")
    sender.send("1.x12", INTERCHANGE, key="k1")
    assert sender.waits == [7.0, 7.0]  # its Retry-After: 7
    assert busy_partner.requests == 3
    assert busy_partner.stored() == {"k1": INTERCHANGE}


def test_a_refusal_is_not_retried(partner):
    sender = _sender(partner.url + "/refuse")
    with pytest.raises(Undeliverable, match="HTTP 400: not a document we take") as refused:
        sender.send("1.x12", INTERCHANGE, key="k2")
    assert refused.value.status == 400
    assert partner.requests == 1
    assert sender.waits == []


def test_a_redirect_is_not_a_delivery_and_is_not_followed(partner):
    sender = _sender(partner.url + "/moved")
    with pytest.raises(Undeliverable, match="HTTP 302") as refused:
        sender.send("1.x12", INTERCHANGE, key="k4")
    assert refused.value.status == 302
    assert partner.requests == 1  # no GET of the login page after the POST
    assert partner.stored() == {}


def test_an_unreachable_partner_is_tried_with_doubling_waits_then_reported():
    sender = _sender(f"http://127.0.0.1:{free_port()}/edi", attempts=6, max_backoff_s=10)
    with pytest.raises(Unreachable, match="no answer after 6 attempts; the last: Connection"):
        sender.send("1.x12", INTERCHANGE, key="k3")
    assert sender.waits == [1.0, 2.0, 4.0, 8.0, 10.0]


def test_backoff_jitter_stays_within_half_the_wait():
    sender = HttpsSender("http://unused", jitter=lambda: 1.0)
    assert sender.delay(1, None) == 1.5
    assert sender.delay(3, None) == 6.0
    assert sender.delay(1, "3") == 3.0
    assert sender.delay(1, "soon") == 1.5  # not seconds: ignored
    assert sender.delay(1, "\u0663") == 1.5  # an Arabic-Indic 3 is not ASCII seconds
