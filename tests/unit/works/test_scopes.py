"""AutoVio's scope table (CONTRACTS.md section 3): every works route, called with a token that
holds every scope but the one it needs, is 403; the table covers every route the works router
has; tokens cannot be minted or revoked beyond the caller's own scopes."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from reelforge.auth import SCOPES
from reelforge.works import router as works

P, W = "/api/projects/p1", "/api/projects/p1/works/w1"
TABLE = [
    ("GET", "/api/projects", "projects:read"),
    ("POST", "/api/projects", "projects:write"),
    ("GET", P, "projects:read"),
    ("PUT", P, "projects:write"),
    ("DELETE", P, "projects:write"),
    ("GET", f"{P}/works", "works:read"),
    ("POST", f"{P}/works", "works:write"),
    ("GET", W, "works:read"),
    ("PUT", W, "works:write"),
    ("DELETE", W, "works:write"),
    ("POST", f"{W}/media/reference", "works:write"),
    ("GET", f"{W}/media/reference", "works:read"),
    ("POST", f"{W}/media/reference/upload-url", "works:write"),
    ("POST", f"{W}/media/scene/0/image", "works:write"),
    ("GET", f"{W}/media/scene/0/image", "works:read"),
    ("POST", f"{W}/media/scene/0/video", "works:write"),
    ("GET", f"{W}/media/scene/0/video", "works:read"),
    ("POST", f"{W}/media/audio", "works:write"),
    ("GET", f"{W}/media/audio", "works:read"),
    ("POST", f"{W}/analyze", "ai:analyze"),
    ("POST", f"{W}/scenario", "ai:generate"),
    ("POST", f"{W}/generate/scene/0", "ai:generate"),
    ("POST", f"{W}/generate/scenes", "ai:generate"),
    ("POST", "/api/analyze", "ai:analyze"),
    ("POST", "/api/scenario", "ai:generate"),
    ("POST", "/api/generate/image", "ai:generate"),
    ("POST", "/api/generate/video", "ai:generate"),
    ("POST", "/api/style-guide/extract", "ai:generate"),
    ("POST", "/api/style-guide/extract-from-landing", "ai:generate"),
    ("GET", f"{P}/assets", "projects:read"),
    ("POST", f"{P}/assets", "projects:write"),
    ("POST", f"{P}/assets/upload-url", "projects:write"),
    ("GET", f"{P}/assets/a1/meta", "projects:read"),
    ("PUT", f"{P}/assets/a1", "projects:write"),
    ("GET", f"{P}/assets/a1", "projects:read"),
    ("GET", f"{P}/assets/a1/thumbnail", "projects:read"),
    ("DELETE", f"{P}/assets/a1", "projects:write"),
    ("POST", f"{P}/assets/a1/analyze", "projects:write"),
    ("POST", f"{P}/assets/analyze-batch", "projects:write"),
    ("GET", f"{P}/templates", "projects:read"),
    ("POST", f"{P}/templates", "projects:write"),
    ("GET", f"{P}/templates/t1", "projects:read"),
    ("PUT", f"{P}/templates/t1", "projects:write"),
    ("DELETE", f"{P}/templates/t1", "projects:write"),
    ("POST", f"{P}/templates/t1/apply", "projects:read"),
    ("POST", f"{W}/apply-template", "works:write"),
    ("POST", "/api/export/preview", "works:read"),
]
OPEN = {("GET", "/api/providers")}


def _jwt(client: TestClient) -> dict[str, str]:
    resp = client.post("/api/auth/register", json={"email": "s@example.com", "password": "password123", "name": "S"})
    return {"Authorization": f"Bearer {resp.json()['accessToken']}"}


def _token(client: TestClient, auth: dict[str, str], scopes: list[str]) -> dict[str, str]:
    resp = client.post("/api/tokens", headers=auth, json={"name": "t", "scopes": scopes})
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def _template(path: str) -> str:
    return (path.replace(P, "/api/projects/{project_id}").replace("/works/w1", "/works/{work_id}")
            .replace("/scene/0/image", "/scene/{scene_ref}/{kind}").replace("/scene/0/video", "/scene/{scene_ref}/{kind}")
            .replace("/generate/scene/0", "/generate/scene/{scene_ref}").replace("/assets/a1", "/assets/{asset_id}")
            .replace("/templates/t1", "/templates/{template_id}"))


def test_the_table_covers_every_works_route() -> None:
    routes = {(m, r.path) for r in works.router.routes if isinstance(r, APIRoute) for m in r.methods}
    covered = {(m, _template(p)) for m, p, _s in TABLE} | OPEN
    assert routes == covered


def test_a_token_without_the_routes_scope_is_403(client: TestClient) -> None:
    """One user, two tokens per row (every scope but the route's; only the route's)."""
    auth = _jwt(client)
    wrong = []
    for method, path, scope in TABLE:
        resp = client.request(method, path, headers=_token(client, auth, [s for s in SCOPES if s != scope]))
        if resp.status_code != 403 or scope not in resp.json()["detail"]:
            wrong.append((method, path, resp.status_code, resp.text[:120]))
        with_scope = client.request(method, path, headers=_token(client, auth, [scope]))
        if with_scope.status_code == 403:
            wrong.append((method, path, "403 with its scope", with_scope.text[:120]))
    assert wrong == []


def test_the_openapi_document_lists_every_works_route(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for method, path, _scope in TABLE:
        assert method.lower() in paths.get(_template(path), {}), (method, path)
    for path in ("/api/tokens", "/api/auth/refresh", "/api/providers"):
        assert path in paths
    assert "202" in paths["/api/generate/video"]["post"]["responses"]
    assert client.get("/api-docs", follow_redirects=False).headers["location"] == "/api/docs"


def test_providers_need_no_token(client: TestClient) -> None:
    assert client.get("/api/providers").status_code == 200


def test_a_read_only_token_cannot_mint_or_revoke_wider_tokens(client: TestClient) -> None:
    auth = _jwt(client)
    reader = _token(client, auth, ["projects:read"])
    wider = client.post("/api/tokens", headers=reader, json={"name": "x", "scopes": ["projects:read", "works:write"]})
    assert wider.status_code == 403 and "works:write" in wider.json()["detail"]
    same = client.post("/api/tokens", headers=reader, json={"name": "y", "scopes": ["projects:read"]})
    assert same.status_code == 201
    full = client.post("/api/tokens", headers=auth, json={"name": "deploy", "scopes": list(SCOPES)}).json()
    revoke = client.delete(f"/api/tokens/{full['meta']['id']}", headers=reader)
    assert revoke.status_code == 403
    assert client.delete(f"/api/tokens/{full['meta']['id']}", headers=auth).status_code == 204
