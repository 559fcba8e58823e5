"""Partners' EDI profiles: checked as the operator enters them (domain.edi_profiles), set
by the operator with envelope ids no other partner has (governance), and never read or
written by partners through the hub."""

from __future__ import annotations

import secrets

import pytest

from directus import ForbiddenOrMissing, HubError
from domain.edi_profiles import check, document_code
from governance import GovernanceError
from governance.partners import edi_profile, get_partner, set_edi_profile
from tests.certificates import certificate_pem, make_identity
from tests.factories import make_org, make_pair, make_user

GROSSO_CERTIFICATE = certificate_pem(make_identity("GROSSO-AS2"))

X12 = {
    "standard": "x12", "isa_qualifier": "zz", "isa_id": "ACMEFOODS", "gs_code": "ACMEFOODS",
    "transport": "folder", "address": "/srv/tandem/edi/acme", "sends": ["invoice",
    "order_response", "ship_notice"], "expects": ["order"], "acknowledgements": True,
}  # fmt: skip
EDIFACT = {
    "standard": "edifact", "unb_id": "5412345000013", "transport": "as2",
    "address": "https://as2.example.com/as2", "as2_id": "GROSSO-AS2", "sends": ["order"],
    "as2_certificate": GROSSO_CERTIFICATE,
    "expects": ["order_response", "ship_notice", "invoice"], "acknowledgements": False,
}  # fmt: skip


def test_a_profile_is_normalized():
    profile, problems = check(X12)
    assert problems == {}
    assert profile is not None
    assert profile["isa_qualifier"] == "ZZ"
    assert profile["sends"] == ["order_response", "ship_notice", "invoice"]  # in document order
    edifact, _ = check(EDIFACT)
    assert edifact is not None
    assert (edifact["unb_qualifier"], edifact["as2_id"]) == ("14", "GROSSO-AS2")
    assert edifact["as2_certificate"] == GROSSO_CERTIFICATE.strip()
    assert edifact["as2_receipt"] == "sync"
    assert [document_code("x12", d) for d in profile["sends"]] == ["855", "856", "810"]
    assert [document_code("edifact", d) for d in edifact["expects"]] == [
        "ORDRSP", "DESADV", "INVOIC",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"standard": "x13"}, "standard", "one of x12, edifact"),
        ({"isa_qualifier": "99"}, "isa_qualifier", "one of 01"),
        ({"isa_id": "ACME*FOODS"}, "isa_id", "no EDI delimiter"),
        ({"isa_id": "A~"}, "isa_id", "no EDI delimiter"),
        ({"isa_id": "X" * 16}, "isa_id", "at most 15"),
        ({"gs_code": "A"}, "gs_code", "at least 2"),
        ({"isa_id": ""}, "isa_id", "required"),
        ({"transport": "ftp"}, "transport", "one of folder, https, as2"),
        ({"address": "edi/acme"}, "address", "absolute path"),
        ({"address": "/srv/../etc"}, "address", "absolute path"),
        ({"transport": "https", "address": "http://partner.example.com/edi"}, "address",
         "https://"),
        ({"transport": "https", "address": "https://"}, "address", "https://"),
        ({"transport": "as2", "address": "https://as2.example.com"}, "as2_id", "AS2 id"),
        ({"sends": ["order", "catalogue"]}, "sends", "unknown: catalogue"),
        ({"sends": [], "expects": []}, "sends", "at least one document"),
        ({"sends": "order"}, "sends", "a list of documents"),
        ({"acknowledgements": "yes"}, "acknowledgements", "true or false"),
        ({"colour": "blue"}, "_schema", "unknown fields: colour"),
    ],
)  # fmt: skip
def test_a_bad_profile_names_the_field_and_what_it_takes(change, field, words):
    profile, problems = check({**X12, **change})
    assert profile is None
    assert words in "; ".join(problems[field])


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"as2_certificate": ""}, "as2_certificate", "X.509 certificate"),
        ({"as2_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
         "as2_certificate", "PEM"),
        ({"as2_certificate": GROSSO_CERTIFICATE.replace("CERTIFICATE", "PUBLIC KEY")},
         "as2_certificate", "PEM"),
        ({"as2_receipt": "email"}, "as2_receipt", "one of sync, async"),
    ],
)  # fmt: skip
def test_an_as2_partner_needs_its_certificate_and_a_receipt_mode(change, field, words):
    profile, problems = check({**EDIFACT, **change})
    assert profile is None
    assert words in "; ".join(problems[field])


def test_http_is_taken_only_to_this_machine():
    for address in ("http://127.0.0.1:8080/edi", "http://localhost/edi", "http://[::1]:9/as2"):
        assert check({**X12, "transport": "https", "address": address})[1] == {}


@pytest.fixture
def supplier(admin):
    return make_org(admin, "supplier")


def _ours(profile: dict[str, object]) -> dict[str, object]:
    tag = secrets.token_hex(4).upper()
    if profile["standard"] == "x12":
        return {**profile, "isa_id": f"T{tag}", "gs_code": f"T{tag}"}
    return {**profile, "unb_id": f"U{tag}", "as2_id": f"AS2-{tag}"}


def test_the_operator_sets_a_profile_its_ids_in_their_own_columns(admin, supplier):
    entered = _ours(X12)
    set_edi_profile(admin, supplier["id"], entered, via="test")
    stored = admin.read_item("organizations", supplier["id"])
    assert (stored["x12_qualifier"], stored["x12_id"]) == ("ZZ", entered["isa_id"])
    assert "isa_id" not in stored["edi_profile"]
    assert edi_profile(get_partner(admin, supplier["id"])) == check(entered)[0]
    entries = admin.read_items(
        "audit_log",
        filter={"action": {"_eq": "partner.edi_profile"}},
        fields=["record_ids", "via"],
        sort=["-id"],
        limit=5,
    )
    assert {"record_ids": [str(supplier["id"])], "via": "test"} in entries
    set_edi_profile(admin, supplier["id"], None, via="test")
    assert edi_profile(get_partner(admin, supplier["id"])) is None


def test_an_envelope_id_or_as2_id_another_partner_has_is_refused_naming_it(admin, supplier):
    taken = _ours(EDIFACT)
    other = make_org(admin, "distributor")
    set_edi_profile(admin, other["id"], taken, via="test")
    with pytest.raises(GovernanceError) as refused:
        set_edi_profile(admin, supplier["id"], {**_ours(EDIFACT), "unb_id": taken["unb_id"]})
    assert refused.value.errors == {"unb_id": [f"{other['name']} already has this envelope id"]}
    with pytest.raises(GovernanceError) as refused:
        set_edi_profile(admin, supplier["id"], {**_ours(EDIFACT), "as2_id": taken["as2_id"]})
    assert refused.value.errors == {"as2_id": [f"{other['name']} already has this AS2 id"]}
    assert admin.read_item("organizations", supplier["id"])["edi_profile"] is None


def test_the_operator_and_bad_profiles_are_refused(admin, supplier):
    operator = make_org(admin, "operator")
    with pytest.raises(GovernanceError, match="only suppliers and distributors"):
        set_edi_profile(admin, operator["id"], _ours(X12))
    with pytest.raises(GovernanceError) as refused:
        set_edi_profile(admin, supplier["id"], {**_ours(X12), "transport": "ftp"})
    assert list(refused.value.errors) == ["transport"]


@pytest.mark.parametrize("role", ["supplier_user", "distributor_user"])
def test_partners_neither_read_nor_write_a_profile_through_the_hub(hub, admin, role):
    supplier, distributor, _pair = make_pair(admin)
    own = supplier if role == "supplier_user" else distributor
    set_edi_profile(admin, supplier["id"], _ours(X12), via="test")
    set_edi_profile(admin, distributor["id"], _ours(EDIFACT), via="test")
    client = make_user(admin, role, own).login(hub.url)
    for org in (supplier, distributor):
        row = client.read_item("organizations", org["id"])
        assert "edi_profile" not in row
        with pytest.raises((ForbiddenOrMissing, HubError)):
            client.read_item("organizations", org["id"], fields=["edi_profile"])
        with pytest.raises((ForbiddenOrMissing, HubError)):
            client.read_items("organizations", filter={"edi_profile": {"_nnull": True}})
        with pytest.raises((ForbiddenOrMissing, HubError)):
            client.update_item("organizations", org["id"], {"edi_profile": None})
    assert admin.read_item("organizations", own["id"])["edi_profile"] is not None


def test_an_id_another_partner_holds_without_a_profile_or_in_other_case_is_refused(admin, supplier):
    holder = make_org(admin, "distributor")
    isa = f"H{secrets.token_hex(4).upper()}"
    admin.update_item("organizations", holder["id"], {"x12_qualifier": "01", "x12_id": isa})
    entered = {**_ours(X12), "isa_id": isa.lower(), "isa_qualifier": "ZZ"}
    with pytest.raises(GovernanceError) as refused:
        set_edi_profile(admin, supplier["id"], entered)
    assert refused.value.errors == {"isa_id": [f"{holder['name']} already has this envelope id"]}
    taken = _ours(EDIFACT)
    set_edi_profile(admin, holder["id"], taken, via="test")
    with pytest.raises(GovernanceError) as refused:
        set_edi_profile(
            admin, supplier["id"], {**_ours(EDIFACT), "as2_id": taken["as2_id"].lower()}
        )
    assert refused.value.errors == {"as2_id": [f"{holder['name']} already has this AS2 id"]}
