"""The portal skeleton: strict configuration, a base layout and a health page."""

from __future__ import annotations

import secrets

import pytest

from directus.process import free_port
from portal import Config, ConfigError, create_app


def _env(**overrides: str) -> dict[str, str]:
    env = {
        "TANDEM_SECRET_KEY": secrets.token_urlsafe(48),
        "TANDEM_HUB_URL": "http://127.0.0.1:1",
        "TANDEM_PORTAL_AUTH_TOKEN": secrets.token_urlsafe(32),
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def client(hub):
    app = create_app(Config.from_env(_env(TANDEM_HUB_URL=hub.url)))
    app.testing = True
    return app.test_client()


def test_the_portal_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("TANDEM_SECRET_KEY", raising=False)
    monkeypatch.setenv("TANDEM_HUB_URL", "http://127.0.0.1:8055")
    with pytest.raises(ConfigError, match="TANDEM_SECRET_KEY is not set"):
        create_app()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TANDEM_SECRET_KEY": "short"}, "TANDEM_SECRET_KEY is too short"),
        ({"TANDEM_HUB_URL": "hub:8055"}, "TANDEM_HUB_URL must be"),
        ({"TANDEM_HUB_TIMEOUT": "soon"}, "TANDEM_HUB_TIMEOUT must be a number"),
        ({"TANDEM_COOKIE_SECURE": "maybe"}, "TANDEM_COOKIE_SECURE must be true or false"),
    ],
)
def test_malformed_settings_are_refused_by_name(overrides, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env(_env(**overrides))


def test_cookies_are_secure_httponly_and_samesite_by_default():
    app = create_app(Config.from_env(_env()))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_health_page_shows_the_hub_reachable(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert b'id="hub-status" class="ok">reachable' in response.data
    assert b"<title>Health" in response.data


def test_every_page_names_the_icon_and_favicon_ico_leads_to_it(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert answer.headers["Location"] == "/static/favicon.svg"
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert icon.get_data(as_text=True).startswith("<svg")


def test_health_answers_json_when_asked(client):
    response = client.get("/health", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json() == {"portal": "ok", "hub": "reachable", "integrity": "loaded"}


def test_health_reports_an_unreachable_hub_with_503():
    app = create_app(Config.from_env(_env(TANDEM_HUB_URL=f"http://127.0.0.1:{free_port()}")))
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert b"unreachable" in response.data


def test_unknown_pages_get_the_error_envelope_on_the_api_and_a_page_elsewhere(client):
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.get_json() == {
        "code": "NOT_FOUND",
        "status": 404,
        "message": api.get_json()["message"],
        "errors": {},
    }
    page = client.get("/nothing-here")
    assert page.status_code == 404
    assert b"404" in page.data
    assert page.content_type.startswith("text/html")
