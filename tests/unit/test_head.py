"""HEAD answers for every GET route with the GET's status and headers and no body."""

from __future__ import annotations

from fastapi.testclient import TestClient


def _token(client: TestClient) -> dict[str, str]:
    resp = client.post("/api/auth/register", json={"email": "h@example.com", "password": "password123", "name": "H"})
    return {"Authorization": f"Bearer {resp.json()['accessToken']}"}


def test_head_is_the_get_without_its_body(client: TestClient) -> None:
    auth = _token(client)
    pid = client.post("/api/project", json={"name": "P"}, headers=auth).json()["id"]
    for path, headers in (("/api/health", {}), (f"/api/project/{pid}", auth), ("/api/openapi.json", {})):
        got, head = client.get(path, headers=headers), client.head(path, headers=headers)
        assert head.status_code == got.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))


def test_head_keeps_the_gets_errors_and_refuses_what_get_does_not_serve(client: TestClient) -> None:
    assert client.head("/api/project").status_code == 401  # the same auth as the GET
    missing = client.head("/api/project/nope", headers=_token(client))
    assert missing.status_code == 404 and missing.content == b""
    assert client.head("/api/auth/login").status_code == 405  # a POST-only route
    assert client.head("/api/no-such-route").status_code == 404


def test_head_of_a_stream_ends_after_its_headers(client: TestClient) -> None:
    """An SSE route answers HEAD at once instead of streaming for up to 15 minutes."""
    auth = _token(client)
    job = client.post("/api/tokens", json={"name": "t", "scopes": ["jobs:read"]}, headers=auth)
    assert job.status_code == 201
    from reelforge import jobs

    owner = client.get("/api/auth/me", headers=auth).json()["id"]
    jid = jobs.create(owner, "process")["id"]
    head = client.head(f"/api/progress/{jid}", headers=auth)
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/event-stream")
    assert head.content == b""


def test_no_get_route_answers_head_with_405(client: TestClient) -> None:
    """Every GET operation in the OpenAPI, by the same path (its parameters filled in)."""
    import re

    paths = client.get("/api/openapi.json").json()["paths"]
    gets = [re.sub(r"\{[^}]+\}", "x", path) for path, ops in paths.items() if "get" in ops]
    assert len(gets) > 40
    for path in gets:
        head = client.head(path)
        assert head.status_code != 405 and head.content == b"", (path, head.status_code)
