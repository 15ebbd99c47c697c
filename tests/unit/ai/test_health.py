"""GET /api/ai/health: Gemini reachability checked with the real SDK against the fake server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fakes.fake_gemini import FakeGemini, FakeResponse
from fastapi.testclient import TestClient

from reelforge.ai import health
from reelforge.ai.health import gemini_reachability
from reelforge.api import create_app
from reelforge.settings import get_settings

KEY = "AIzaTEST-not-a-real-key-0123456789"  # the fake_gemini fixture's key

MODEL = "gemini-2.5-flash"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    health.clear_cache()
    yield
    health.clear_cache()


def _model_gets(fake: FakeGemini) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET"]


def test_a_working_key_is_reachable_and_spends_no_tokens(fake_gemini) -> None:
    assert gemini_reachability(KEY, model=MODEL, base_url=fake_gemini.base_url) == {
        "reachable": True}
    assert _model_gets(fake_gemini) == [f"/v1beta/models/{MODEL}"]
    assert fake_gemini.requests[0].api_key == KEY
    assert not any(r.method == "POST" for r in fake_gemini.requests)


def test_a_rejected_key_is_unreachable_without_echoing_it(fake_gemini) -> None:
    wrong = "AIzaWRONG-key-that-must-not-leak-000000"
    result = gemini_reachability(wrong, model=MODEL, base_url=fake_gemini.base_url)
    assert result["reachable"] is False
    assert "rejected the API key" in result["error"]
    assert wrong not in str(result)


def test_an_unknown_model_is_unreachable(fake_gemini) -> None:
    fake_gemini.models = {MODEL}
    result = gemini_reachability(KEY, model="gemini-0-nope", base_url=fake_gemini.base_url)
    assert result["reachable"] is False
    assert "'gemini-0-nope' was not found" in result["error"]


def test_a_dead_endpoint_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = gemini_reachability(KEY, model=MODEL, base_url=f"http://127.0.0.1:{port}")
    assert result["reachable"] is False
    assert "could not reach Gemini" in result["error"]


def test_a_slow_endpoint_times_out(fake_gemini, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "CHECK_TIMEOUT_S", 0.3)
    original = fake_gemini._model_resource
    monkeypatch.setattr(fake_gemini, "_model_resource", lambda request: FakeResponse(
        body=original(request).body, delay_s=1.5))
    result = gemini_reachability(KEY, model=MODEL, base_url=fake_gemini.base_url)
    assert result == {"reachable": False, "error": "Gemini did not answer within 0.3 s"}


def test_without_a_key_nothing_is_called(fake_gemini) -> None:
    result = gemini_reachability("  ", model=MODEL, base_url=fake_gemini.base_url)
    assert result["reachable"] is None and "x-api-key" in result["note"]
    assert fake_gemini.requests == []


def test_answers_are_cached_per_key(fake_gemini, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        assert gemini_reachability(KEY, model=MODEL, base_url=fake_gemini.base_url)["reachable"]
    assert len(_model_gets(fake_gemini)) == 1
    assert not gemini_reachability("other", model=MODEL, base_url=fake_gemini.base_url)[
        "reachable"]
    assert len(_model_gets(fake_gemini)) == 2
    assert all(KEY not in k for k in health._cache)  # keyed by a hash, never the key
    monkeypatch.setattr(health, "CACHE_S", 0.0)  # expired: asked again
    gemini_reachability(KEY, model=MODEL, base_url=fake_gemini.base_url)
    assert len(_model_gets(fake_gemini)) == 3


@pytest.fixture
def api(aws_mock: None, fake_gemini, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("GEMINI_BASE_URL", fake_gemini.base_url)
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        resp = client.post("/api/auth/register", json={
            "email": "health@example.com", "password": "password123", "name": "H"})
        client.headers["Authorization"] = f"Bearer {resp.json()['accessToken']}"
        yield client


def test_route_checks_the_request_key_then_the_server_key(api, fake_gemini, monkeypatch) -> None:
    assert api.get("/api/ai/health", headers={"Authorization": ""}).status_code == 401

    body = api.get("/api/ai/health").json()
    assert body["default_provider"] == "local"
    assert body["providers"]["local"]["reachable"] is True
    gemini = body["providers"]["gemini"]
    assert gemini["configured"] is False and gemini["reachable"] is None

    ok = api.get("/api/ai/health", headers={"x-api-key": KEY}).json()["providers"]["gemini"]
    assert ok["reachable"] is True and ok["model"] == MODEL
    bad = api.get("/api/ai/health", headers={"X-Gemini-Key": "AIzaBAD-health-check-key"}).json()
    assert bad["providers"]["gemini"]["reachable"] is False
    assert "AIzaBAD-health-check-key" not in bad["providers"]["gemini"]["error"]

    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    get_settings.cache_clear()
    server = api.get("/api/ai/health").json()["providers"]["gemini"]
    assert server["configured"] is True and server["reachable"] is True
