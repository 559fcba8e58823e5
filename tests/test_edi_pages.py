"""The EDI messages pages: each partner sees its own messages, the operator every one and
replays a rejected one; nobody sees another partner's (negative controls)."""

from __future__ import annotations

import re

import pytest

from domain import clock
from governance.partners import ensure_partnership
from tests.factories import csrf_token, make_org, make_user, sign_in


def _message(admin, sender, receiver, partner, **fields) -> dict:
    return admin.create_item(
        "edi_messages",
        {
            "direction": "in",
            "standard": "x12",
            "message_type": "855",
            "status": "rejected",
            "received_at": clock.now().isoformat(timespec="milliseconds"),
            "sender": sender,
            "receiver": receiver,
            "partner": partner,
            "interchange": "000000501",
            "file_name": "answer.edi",
            "payload": "ISA*00*...~",
            "error": "PO101: expected a line number (found '')",
            "detail": {"position": 4, "element": "PO101"},
            **fields,
        },
    )


@pytest.fixture
def two_pairs(admin):
    supplier, distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    other_supplier, other_distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    ensure_partnership(admin, supplier["id"], distributor["id"])
    ensure_partnership(admin, other_supplier["id"], other_distributor["id"])
    ours = _message(admin, supplier["id"], distributor["id"], supplier["id"])
    theirs = _message(admin, other_supplier["id"], other_distributor["id"], other_supplier["id"],
                      error="their secret reason")  # fmt: skip
    return {
        "supplier": make_user(admin, "supplier_user", supplier),
        "distributor": make_user(admin, "distributor_user", distributor),
        "stranger": make_user(admin, "distributor_user", other_distributor),
        "operator": make_user(admin, "operator_admin"),
        "ours": ours,
        "theirs": theirs,
    }


def test_each_partner_of_a_message_sees_it_and_its_reason_and_downloads_it(portal, two_pairs):
    for who in ("supplier", "distributor"):
        client = sign_in(portal, two_pairs[who])
        page = client.get("/edi").get_data(as_text=True)
        assert f"/edi/{two_pairs['ours']['id']}" in page
        assert f"/edi/{two_pairs['theirs']['id']}" not in page
        assert "their secret reason" not in page
        detail = client.get(f"/edi/{two_pairs['ours']['id']}")
        assert detail.status_code == 200
        assert "PO101: expected a line number" in detail.get_data(as_text=True)
        download = client.get(f"/edi/{two_pairs['ours']['id']}/payload")
        assert download.data == b"ISA*00*...~"
        assert "answer.edi" in download.headers["Content-Disposition"]


def test_another_partners_message_is_not_found_and_partners_cannot_replay(portal, two_pairs):
    theirs = two_pairs["theirs"]["id"]
    for who in ("supplier", "distributor", "stranger"):
        client = sign_in(portal, two_pairs[who])
        if who != "stranger":
            assert client.get(f"/edi/{theirs}").status_code == 404
            assert client.get(f"/edi/{theirs}/payload").status_code == 404
        token = csrf_token(client, "/edi")
        answer = client.post(f"/edi/{two_pairs['ours']['id']}/replay", data={"csrf_token": token})
        assert answer.status_code == 403
    stranger = sign_in(portal, two_pairs["stranger"])
    assert stranger.get(f"/edi/{two_pairs['ours']['id']}").status_code == 404


def test_the_operator_sees_every_message_and_replays_a_rejected_one(portal, admin, two_pairs):
    client = sign_in(portal, two_pairs["operator"])
    page = client.get("/edi?status=rejected").get_data(as_text=True)
    assert f"/edi/{two_pairs['ours']['id']}" in page
    assert f"/edi/{two_pairs['theirs']['id']}" in page
    token = csrf_token(client, f"/edi/{two_pairs['ours']['id']}")
    done = client.post(f"/edi/{two_pairs['ours']['id']}/replay", data={"csrf_token": token})
    assert done.status_code == 302
    replay_id = int(re.search(r"/edi/(\d+)$", done.headers["Location"]).group(1))
    replay = admin.read_item("edi_messages", replay_id)
    assert (replay["status"], replay["payload"], replay["partner"]) == (
        "replay", "ISA*00*...~", two_pairs["ours"]["partner"])  # fmt: skip
    # A replay is no rejected message: it does not replay.
    again = client.post(f"/edi/{replay_id}/replay", data={"csrf_token": token})
    assert again.status_code == 302
    assert "Not replayed" in client.get(again.headers["Location"]).get_data(as_text=True)
