"""The API's auth, scopes, ownership and validation, through FastAPI's TestClient on moto."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def _register(client: TestClient, email: str) -> dict[str, str]:
    resp = client.post("/api/auth/register", json={"email": email, "password": "password123", "name": "N"})
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['accessToken']}"}


def test_health_needs_no_auth(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "healthy"
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/providers").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200


def test_register_login_me_refresh(client: TestClient) -> None:
    body = {"email": "a@example.com", "password": "password123", "name": "Ann"}
    reg = client.post("/api/auth/register", json=body)
    assert reg.status_code == 201
    assert set(reg.json()) == {"user", "accessToken", "refreshToken"}
    assert client.post("/api/auth/register", json=body).status_code == 409
    bad = client.post("/api/auth/login", json={"email": "a@example.com", "password": "nope-nope"})
    assert bad.status_code == 401 and bad.json()["detail"] == "Invalid email or password"
    login = client.post("/api/auth/login", json={"email": "a@example.com", "password": "password123"})
    headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
    assert client.get("/api/auth/me", headers=headers).json()["email"] == "a@example.com"
    assert client.get("/api/me", headers=headers).json()["name"] == "Ann"
    fresh = client.post("/api/auth/refresh", json={"refreshToken": login.json()["refreshToken"]})
    assert fresh.status_code == 200 and "accessToken" in fresh.json()


@pytest.mark.parametrize("body,fragment", [
    ({"email": "x@example.com", "password": "short", "name": "X"}, "password"),
    ({"email": "not-an-email", "password": "password123", "name": "X"}, "email"),
    ({"email": "x@example.com", "password": "password123", "name": ""}, "name"),
])
def test_register_validation_errors_have_a_detail_string(client: TestClient, body: dict, fragment: str) -> None:
    resp = client.post("/api/auth/register", json=body)
    assert resp.status_code == 422
    assert isinstance(resp.json()["detail"], str) and fragment in resp.json()["detail"]


def test_routes_need_a_token(client: TestClient) -> None:
    for method, path in [("get", "/api/project"), ("post", "/api/project"), ("get", "/api/me"),
                         ("get", "/api/tokens"), ("get", "/api/job/x"), ("get", "/api/ai/timeline")]:
        resp = getattr(client, method)(path)
        assert resp.status_code == 401, path
        assert resp.json()["detail"] == "Authentication required"
    assert client.get("/api/project", headers={"Authorization": "Bearer junk"}).status_code == 401


def test_api_token_scopes_are_enforced(client: TestClient) -> None:
    headers = _register(client, "s@example.com")
    made = client.post("/api/tokens", headers=headers, json={"name": "ro", "scopes": ["projects:read"]})
    assert made.status_code == 201
    token = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.get("/api/project", headers=token).status_code == 200
    denied = client.post("/api/project", headers=token, json={"name": "p"})
    assert denied.status_code == 403 and "projects:write" in denied.json()["detail"]
    # A read-only token cannot mint a wider one.
    wider = client.post("/api/tokens", headers=token, json={"name": "w", "scopes": ["projects:write"]})
    assert wider.status_code == 403
    bad = client.post("/api/tokens", headers=headers, json={"name": "x", "scopes": ["root"]})
    assert bad.status_code == 422 and "unknown scopes" in bad.json()["detail"]
    listed = client.get("/api/tokens", headers=headers).json()
    assert [t["name"] for t in listed] == ["ro"] and "token" not in listed[0]
    assert client.delete(f"/api/tokens/{listed[0]['id']}", headers=headers).status_code == 204
    assert client.get("/api/project", headers=token).status_code == 401


def test_projects_are_private_to_their_owner(client: TestClient) -> None:
    alice, bob = _register(client, "alice@example.com"), _register(client, "bob@example.com")
    made = client.post("/api/project", headers=alice, json={"name": "Trip", "description": "d"})
    assert made.status_code == 201
    pid = made.json()["id"]
    assert client.get(f"/api/project/{pid}", headers=alice).json()["name"] == "Trip"
    assert client.get(f"/api/projects/{pid}", headers=alice).status_code == 200  # same resource
    assert client.get(f"/api/project/{pid}", headers=bob).status_code == 404
    assert client.delete(f"/api/project/{pid}", headers=bob).status_code == 404
    assert client.post(f"/api/project/{pid}/upload", headers=bob,
                       json={"file_name": "a.mp4", "content_type": "video/mp4"}).status_code == 404
    assert client.get("/api/project", headers=bob).json() == []
    assert [p["id"] for p in client.get("/api/projects", headers=alice).json()] == [pid]


def test_upload_accepts_only_media_and_sanitises_names(client: TestClient) -> None:
    headers = _register(client, "u@example.com")
    pid = client.post("/api/project", headers=headers, json={"name": "p"}).json()["id"]
    bad = client.post(f"/api/project/{pid}/upload", headers=headers,
                      json={"file_name": "x.html", "content_type": "text/html"})
    assert bad.status_code == 422 and "video/*" in bad.json()["detail"]
    ok = client.post(f"/api/project/{pid}/upload", headers=headers,
                     json={"file_name": "../../etc/Ünïcode clip?.mp4", "content_type": "video/mp4"})
    assert ok.status_code == 200
    assert set(ok.json()) >= {"upload_url", "asset_id"}
    asset = client.get(f"/api/project/{pid}", headers=headers).json()["assets"][0]
    assert asset["file_name"] == "Unicode_clip_.mp4" and asset["status"] == "uploading"
    assert "/etc/" not in ok.json()["upload_url"]


def test_project_validation(client: TestClient) -> None:
    headers = _register(client, "v@example.com")
    resp = client.post("/api/project", headers=headers, json={"name": "p", "video_url": "ftp://x/y"})
    assert resp.status_code == 422
    assert client.post("/api/project", headers=headers, json={"name": "x" * 201}).status_code == 422
