"""The operator's verbs: partners, users and sharing agreements, on the session's hub.

Each command logs in as the hub admin through ``--hub-url`` and the admin login in the
environment, as an operator reaches a remote hub. Refused input must end the command
with a one-line message naming the field, not a traceback.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from directus import AuthFailed, HubClient
from domain.gs1 import with_check_digit
from governance.partners import get_partner
from migrations.accounts import SYNC_SERVICE_EMAIL
from sync.jobs import job_definitions
from sync.requests import declare
from tandem.cli import cli
from tests.factories import gs1_prefix, make_org, make_pair, unique

PASSWORD = "correct horse battery"


@pytest.fixture
def tandem(hub):
    """Run ``tandem <args>`` against the session's hub; returns click's result."""
    env = {
        "TANDEM_HUB_URL": hub.url,
        "TANDEM_HUB_ADMIN_EMAIL": hub.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": hub.admin_password,
    }

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, input=input)

    return run


def _refused(result: Result, *words: str) -> str:
    """Assert a clean refusal and return its message."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: ")
    for word in words:
        assert word in message
    return message


def _email(prefix: str = "cli") -> str:
    return f"{unique(prefix)}@tandem-test.example.com"


# partners


def test_partner_add_then_list_shows_it(tandem):
    name = unique("Cli Supplier")
    gln = with_check_digit("952999900001")
    added = tandem(
        "partner", "add", name, "--kind", "supplier", "--gln", gln, "--currency", "EUR",
        "--x12-qualifier", "ZZ", "--x12-id", "CLISUP", "--edifact-id", gln,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert f"added supplier {name}" in added.output

    listed = tandem("partner", "list", "--json")
    assert listed.exit_code == 0, listed.output
    row = next(r for r in json.loads(listed.stdout) if r["name"] == name)
    assert (row["kind"], row["gln"], row["currency"], row["x12_id"]) == (
        "supplier",
        gln,
        "EUR",
        "CLISUP",
    )
    assert name in tandem("partner", "list").stdout


def test_partner_add_refuses_a_bad_gln_naming_the_field(tandem):
    _refused(
        tandem("partner", "add", unique("Bad"), "--kind", "supplier", "--gln", "1234567890123"),
        "gln",
        "check digit",
    )


def test_partner_prefixes_are_set_listed_and_refused_when_another_supplier_holds_them(
    tandem, admin
):
    name, prefix = unique("Cli Prefixes"), gs1_prefix()
    added = tandem("partner", "add", name, "--kind", "supplier", "--gs1-prefix", prefix)
    assert added.exit_code == 0, added.output
    listed = json.loads(tandem("partner", "list", "--json").stdout)
    row = next(r for r in listed if r["name"] == name)
    assert row["gs1_prefixes"] == [prefix]
    more = gs1_prefix()
    result = tandem("partner", "prefixes", name, prefix, more)
    assert result.exit_code == 0, result.output
    assert f"GS1 company prefixes {prefix}, {more}" in result.output
    assert get_partner(admin, name)["gs1_prefixes"] == [prefix, more]
    other = make_org(admin, "supplier")
    _refused(tandem("partner", "prefixes", other["name"], more), "gs1_prefixes", "overlaps")
    _refused(tandem("partner", "prefixes", other["name"], "95-12"), "gs1_prefixes", "6 to 12")
    _refused(
        tandem("partner", "add", unique("Dist"), "--kind", "distributor", "--gs1-prefix", more),
        "gs1_prefixes",
        "only a supplier",
    )


def test_partner_add_refuses_an_unknown_kind_and_a_duplicate_name(tandem, admin):
    _refused(tandem("partner", "add", unique("Odd"), "--kind", "wholesaler"), "--kind")
    taken = make_org(admin)["name"]
    _refused(tandem("partner", "add", taken, "--kind", "supplier"), "name", "already exists")
    _refused(
        tandem("partner", "add", unique("Half"), "--kind", "supplier", "--x12-id", "X"),
        "--x12-qualifier",
    )


# users


def test_user_add_prompts_for_a_hidden_confirmed_password(tandem, hub, admin):
    org = make_org(admin, "supplier")
    email = _email()
    result = tandem(
        "user",
        "add",
        email,
        "--role",
        "supplier_user",
        "--org",
        org["name"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert HubClient.login(hub.url, email, PASSWORD).get("/users/me", fields=["email"]) == {
        "email": email
    }


def test_user_add_reads_the_first_line_of_a_password_file(tandem, hub, admin, tmp_path):
    org = make_org(admin, "distributor")
    secret = tmp_path / "password"
    secret.write_text(f"{PASSWORD}\nnot this line\n")
    email = _email()
    result = tandem(
        "user", "add", email, "--role", "distributor_user", "--org", str(org["id"]),
        "--first-name", "Dee", "--last-name", "Stributor", "--password-file", str(secret),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    HubClient.login(hub.url, email, PASSWORD)


def test_a_password_is_never_taken_as_an_argument(tandem, admin):
    org = make_org(admin)
    result = tandem(
        "user",
        "add",
        _email(),
        "--role",
        "supplier_user",
        "--org",
        org["name"],
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    result = tandem(
        "user", "add", _email(), PASSWORD, "--role", "supplier_user", "--org", org["name"]
    )
    assert result.exit_code == 2
    assert "unexpected extra argument" in result.stderr


def test_user_add_refusals_name_the_field(tandem, admin, tmp_path):
    short = tmp_path / "short"
    short.write_text("too-short\n")
    empty = tmp_path / "empty"
    empty.write_text("")
    supplier = make_org(admin, "supplier")
    add = ("user", "add", _email(), "--role", "supplier_user")
    _refused(
        tandem(*add, "--org", unique("Nobody"), "--password-file", str(short)),
        "organization",
        "not found",
    )
    _refused(
        tandem(*add, "--org", supplier["name"], "--password-file", str(short)), "password", "12"
    )
    _refused(
        tandem(*add, "--org", supplier["name"], "--password-file", str(empty)), "--password-file"
    )
    _refused(
        tandem(
            "user",
            "add",
            _email(),
            "--role",
            "distributor_user",
            "--org",
            supplier["name"],
            "--password-file",
            str(short),
        ),
        "role",
    )
    _refused(
        tandem("user", "add", _email(), "--role", "admin", "--org", supplier["name"]), "--role"
    )


def test_user_list_and_deactivate(tandem, hub, admin):
    org = make_org(admin)
    email = _email()
    tandem(
        "user",
        "add",
        email,
        "--role",
        "supplier_user",
        "--org",
        org["name"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    listed = tandem("user", "list", "--org", org["name"], "--json")
    assert [u["email"] for u in json.loads(listed.stdout)] == [email]
    assert email in tandem("user", "list").stdout

    result = tandem("user", "deactivate", email)
    assert result.exit_code == 0, result.output
    with pytest.raises(AuthFailed):
        HubClient.login(hub.url, email, PASSWORD)
    _refused(tandem("user", "deactivate", _email()), "user", "not found")


def test_partner_and_user_deactivate_and_reactivate(tandem, hub, admin):
    """A partner's reactivation brings back the users its deactivation suspended; a user
    comes back alone only while its partner is active."""
    org = make_org(admin, "distributor")
    email = _email()
    tandem("user", "add", email, "--role", "distributor_user", "--org", org["name"],
           input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert tandem("partner", "deactivate", org["name"]).exit_code == 0
    with pytest.raises(AuthFailed):
        HubClient.login(hub.url, email, PASSWORD)
    _refused(tandem("partner", "deactivate", org["name"]), "partner", "inactive")
    _refused(tandem("user", "reactivate", email), "organization", "inactive")

    result = tandem("partner", "reactivate", str(org["id"]))
    assert result.exit_code == 0, result.output
    assert "and 1 of its users" in result.stdout
    HubClient.login(hub.url, email, PASSWORD).logout()
    _refused(tandem("partner", "reactivate", org["name"]), "partner", "active")

    assert tandem("user", "deactivate", email).exit_code == 0
    assert tandem("user", "reactivate", email).exit_code == 0
    HubClient.login(hub.url, email, PASSWORD).logout()
    _refused(tandem("user", "reactivate", email), "user", "active")


def test_the_operator_organization_and_service_accounts_are_never_deactivated(tandem, admin):
    operator = make_org(admin, "operator")
    _refused(tandem("partner", "deactivate", operator["name"]), "partner", "never deactivated")
    assert get_partner(admin, operator["id"])["status"] == "active"
    _refused(tandem("user", "deactivate", SYNC_SERVICE_EMAIL), "user", "a service account is not")
    (service,) = admin.get(
        "/users", filter={"email": {"_eq": SYNC_SERVICE_EMAIL}}, fields=["status"]
    )
    assert service["status"] == "active"


def test_an_account_manager_works_for_the_operator_and_manages_only_pairs_that_trade(
    tandem, hub, admin
):
    """Seen: a manager could sit in a supplier (inheriting its share policy), and an
    assignment silently paired a supplier with a distributor, opening its catalogue."""
    supplier, distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    _refused(
        tandem(
            "user", "add", _email("inside"), "--role", "account_manager",
            "--org", supplier["name"], input=f"{PASSWORD}\n{PASSWORD}\n",
        ),
        "role", "cannot belong to a supplier",
    )  # fmt: skip
    operator, email = make_org(admin, "operator"), _email("manager")
    tandem(
        "user", "add", email, "--role", "account_manager", "--org", operator["name"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assign = ("user", "assign", email, "--supplier", supplier["name"],
              "--distributor", distributor["name"])  # fmt: skip
    _refused(tandem(*assign), "supplier", "not a pair")
    pair = f"{supplier['id']}:{distributor['id']}"
    assert admin.read_items("partnerships", filter={"pair": {"_eq": pair}}) == []
    paired = tandem(
        "partner", "pair", "--supplier", supplier["name"], "--distributor", distributor["name"]
    )
    assert paired.exit_code == 0, paired.output
    assert tandem(*assign).exit_code == 0
    manager = HubClient.login(hub.url, email, PASSWORD)
    assert [p["pair"] for p in manager.read_items("partnerships", fields=["pair"])] == [pair]


def test_user_assign_gives_an_account_manager_the_pair(tandem, hub, admin):
    supplier, distributor, pair = make_pair(admin)
    operator = make_org(admin, "operator")
    email = _email("manager")
    tandem(
        "user",
        "add",
        email,
        "--role",
        "account_manager",
        "--org",
        operator["name"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    result = tandem(
        "user",
        "assign",
        email,
        "--supplier",
        supplier["name"],
        "--distributor",
        str(distributor["id"]),
    )
    assert result.exit_code == 0, result.output
    manager = HubClient.login(hub.url, email, PASSWORD)
    assert manager.read_items("partnerships", fields=["id"]) == [{"id": pair}]

    seller = _email("seller")
    tandem(
        "user",
        "add",
        seller,
        "--role",
        "supplier_user",
        "--org",
        supplier["name"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    _refused(
        tandem(
            "user",
            "assign",
            seller,
            "--supplier",
            supplier["name"],
            "--distributor",
            distributor["name"],
        ),
        "user",
        "not an account manager",
    )
    _refused(
        tandem(
            "user",
            "assign",
            email,
            "--supplier",
            distributor["name"],
            "--distributor",
            supplier["name"],
        ),
        "supplier",
    )

    unassign = ("user", "unassign", email, "--supplier", supplier["name"],
                "--distributor", distributor["name"])  # fmt: skip
    result = tandem(*unassign)
    assert result.exit_code == 0, result.output
    assert manager.read_items("partnerships", fields=["id"]) == []
    _refused(tandem(*unassign), "user", "does not manage")


# sharing agreements


def test_share_grant_list_and_revoke(tandem, admin):
    supplier, distributor, _pair = make_pair(admin)
    for code, region in (("w1", "west"), ("m1", "midwest")):
        admin.create_item(
            "locations",
            {
                "ref": f"{distributor['id']}:{code}",
                "code": code,
                "name": code,
                "kind": "store",
                "region": region,
                "distributor": distributor["id"],
            },
        )
    result = tandem(
        "share", "grant", "--grantor", distributor["name"], "--grantee", supplier["name"],
        "--kinds", "pos,inventory", "--regions", "west,midwest", "--granularity", "store_day",
        "--from", "2026-01-01", "--to", "2026-12-31", "--purpose", "Joint planning",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "granted agreement" in result.output

    listed = json.loads(tandem("share", "list", "--org", supplier["name"], "--json").stdout)
    assert len(listed) == 1
    agreement = listed[0]
    assert (
        agreement["kinds"],
        agreement["regions"],
        agreement["valid_from"],
        agreement["valid_to"],
    ) == (
        ["pos", "inventory"],
        ["west", "midwest"],
        "2026-01-01",
        "2026-12-31",
    )
    assert "pos,inventory" in tandem("share", "list", "--org", str(supplier["id"])).stdout

    assert tandem("share", "revoke", str(agreement["id"])).exit_code == 0
    listed = json.loads(tandem("share", "list", "--org", distributor["name"], "--json").stdout)
    assert listed[0]["status"] == "revoked"
    _refused(tandem("share", "revoke", str(agreement["id"])), "agreement", "already revoked")


def test_share_grant_refusals_name_the_field(tandem, admin):
    supplier, distributor, _pair = make_pair(admin)
    grant = ("share", "grant", "--grantor", distributor["name"], "--grantee", supplier["name"])
    _refused(tandem(*grant, "--kinds", "pos", "--from", "2026-02-30"), "--from")
    _refused(tandem(*grant, "--kinds", "pos", "--from", "2026-03-01", "--to", "tomorrow"), "--to")
    _refused(tandem(*grant, "--kinds", "pos,gossip", "--from", "2026-03-01"), "kinds", "gossip")
    _refused(
        tandem(*grant, "--kinds", "pos", "--from", "2026-03-01", "--to", "2026-02-01"), "valid_to"
    )
    _refused(
        tandem(*grant, "--kinds", "pos", "--from", "2026-03-01", "--locations", "1,x"),
        "--locations",
    )
    _refused(
        tandem(*grant, "--kinds", "pos", "--from", "2026-03-01", "--granularity", "hourly"),
        "--granularity",
    )
    _refused(
        tandem(
            *grant,
            "--kinds",
            "pos",
            "--from",
            "2026-03-01",
            "--regions",
            "west",
            "--locations",
            "1",
        ),
        "locations",
    )
    _refused(
        tandem(
            "share",
            "grant",
            "--grantor",
            supplier["name"],
            "--grantee",
            distributor["name"],
            "--kinds",
            "pos",
            "--from",
            "2026-03-01",
        ),
        "grantor",
    )
    _refused(
        tandem(
            "share",
            "grant",
            "--grantor",
            unique("Nobody"),
            "--grantee",
            supplier["name"],
            "--kinds",
            "pos",
            "--from",
            "2026-03-01",
        ),
        "organization",
        "not found",
    )
    _refused(tandem("share", "revoke", "not-a-number"), "ID")


def test_a_remote_hub_needs_the_admin_login(hub):
    result = CliRunner().invoke(
        cli,
        ["partner", "list", "--hub-url", hub.url],
        env={"TANDEM_HUB_ADMIN_EMAIL": None, "TANDEM_HUB_ADMIN_PASSWORD": None},
    )
    _refused(result, "TANDEM_HUB_ADMIN_EMAIL")


def test_partner_edi_sets_shows_and_clears_a_profile_and_refuses_naming_the_field(tandem, admin):
    org = make_org(admin, "supplier")
    isa = f"C{unique('')[-8:]}".replace("-", "")[:15]
    result = tandem(
        "partner", "edi", org["name"], "--standard", "x12", "--isa-qualifier", "ZZ",
        "--isa-id", isa, "--gs-code", isa, "--transport", "folder",
        "--address", "/srv/tandem/edi/cli", "--sends", "order_response,invoice",
        "--expects", "order",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{org['name']}: EDI profile set" in result.output
    shown = json.loads(tandem("partner", "edi", org["name"], "--show").stdout)
    assert (shown["isa_id"], shown["sends"], shown["acknowledgements"]) == (
        isa, ["order_response", "invoice"], True,
    )  # fmt: skip
    _refused(
        tandem("partner", "edi", org["name"], "--standard", "x12", "--isa-qualifier", "ZZ",
               "--isa-id", "A*B", "--gs-code", "AB", "--transport", "folder",
               "--address", "relative", "--expects", "order"),
        "isa_id: letters, digits", "address: the mailbox folder",
    )  # fmt: skip
    assert tandem("partner", "edi", org["name"], "--clear").exit_code == 0
    assert tandem("partner", "edi", org["name"], "--show").stdout.strip() == "no profile"


def test_sync_lists_the_jobs_runs_one_now_and_shows_the_runs(tandem, sync_hub):
    declare(sync_hub, job_definitions(run_retention_days=30))
    listed = json.loads(tandem("sync", "jobs", "--json").output)
    assert {"edi.exchange", "sync_runs.prune"} <= {job["id"] for job in listed}
    done = tandem("sync", "run", "edi.exchange")
    assert done.exit_code == 0, done.output
    assert "asked the scheduler to run edi.exchange now" in done.output
    again = json.loads(tandem("sync", "jobs", "--json").output)
    assert {j["id"]: j["requested"] for j in again}["edi.exchange"] is True
    _refused(tandem("sync", "run", "no.such.job"), "job", "no such job")
    assert tandem("sync", "runs", "--job", "edi.exchange").exit_code == 0


def test_partner_planning_sets_a_pairs_policy_and_refuses_a_bad_one(tandem, admin):
    supplier, distributor, pair = make_pair(admin)
    result = tandem(
        "partner", "planning", "--supplier", supplier["name"], "--distributor",
        str(distributor["id"]), "--service-level", "0.98", "--review-weeks", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "service_level=0.98, review_weeks=2" in result.stdout
    stored = admin.read_item("partnerships", pair)["planning_settings"]
    assert stored == {"service_level": "0.98", "review_weeks": "2", "tolerance_pct": "20"}
    for level in ("1", "0", "ninety"):
        _refused(
            tandem("partner", "planning", "--supplier", supplier["name"], "--distributor",
                   str(distributor["id"]), "--service-level", level),
            "service level",
        )  # fmt: skip
    assert admin.read_item("partnerships", pair)["planning_settings"] == stored
