"""Idempotency-Key on POST (api/idempotency.py) and the per-user job limit (quotas.py),
through FastAPI's TestClient on moto: the records and counters are real table items."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from reelforge import jobs, quotas
from reelforge.api import create_app
from reelforge.settings import get_settings

TABLE = "reelforge-test-table"  # tests/unit/conftest.py
UPLOAD = {"file_name": "talk.mp4", "content_type": "video/mp4"}


def _register(client: TestClient, email: str) -> dict[str, str]:
    resp = client.post("/api/auth/register", json={"email": email, "password": "password123", "name": "N"})
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['accessToken']}"}


def _items(prefix: str) -> list[dict[str, Any]]:
    items = boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
    return [i for i in items if i["PK"].startswith(prefix)]


def _jobs_of(client: TestClient, auth: dict[str, str]) -> list[str]:
    return [i["id"] for i in _items("JOB#") if i["SK"] == "META" and i["owner"] == _user_id(client, auth)]


def _user_id(client: TestClient, auth: dict[str, str]) -> str:
    return client.get("/api/auth/me", headers=auth).json()["id"]


def test_a_retry_gets_the_first_answer_and_creates_nothing(client: TestClient) -> None:
    auth = _register(client, "idem@example.com")
    key = {**auth, "Idempotency-Key": "order-7f3a"}
    first = client.post("/api/process/upload-url", json=UPLOAD, headers=key)
    again = client.post("/api/process/upload-url", json=UPLOAD, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _jobs_of(client, auth) == [first.json()["job_id"]]
    # a new key is a new request
    other = client.post("/api/process/upload-url", json=UPLOAD, headers={**auth, "Idempotency-Key": "order-2"})
    assert other.json()["job_id"] != first.json()["job_id"]
    assert len(_jobs_of(client, auth)) == 2
    # resources too, and the studio's envelope
    made = [client.post("/api/v1/projects", json={"name": "Once"}, headers={**auth, "Idempotency-Key": "p1"})
            for _ in range(2)]
    assert made[0].status_code == made[1].status_code == 201 and made[0].json() == made[1].json()
    listed = client.get("/api/v1/projects", headers=auth).json()["data"]
    assert [p["name"] for p in (listed["projects"] if isinstance(listed, dict) else listed)] == ["Once"]


def test_the_same_key_with_another_body_is_a_422(client: TestClient) -> None:
    auth = {**_register(client, "reuse@example.com"), "Idempotency-Key": "k-1"}
    assert client.post("/api/project", json={"name": "One"}, headers=auth).status_code == 201
    resp = client.post("/api/project", json={"name": "Two"}, headers=auth)
    assert resp.status_code == 422 and "different request body" in resp.json()["detail"]
    assert resp.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert [p["name"] for p in client.get("/api/projects", headers=auth).json()] == ["One"]
    studio = client.post("/api/v1/projects", json={"name": "x"}, headers=auth)  # another route: its own key
    assert studio.status_code == 201
    studio = client.post("/api/v1/projects", json={"name": "y"}, headers=auth)
    assert studio.status_code == 422 and studio.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_keys_belong_to_their_user_and_bad_keys_are_refused(client: TestClient) -> None:
    ann, bob = _register(client, "ann@example.com"), _register(client, "bob@example.com")
    a = client.post("/api/project", json={"name": "Ann's"}, headers={**ann, "Idempotency-Key": "same"})
    b = client.post("/api/project", json={"name": "Ann's"}, headers={**bob, "Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]
    assert "idempotent-replayed" not in b.headers
    for bad in ("", "x" * 256, "with space"):
        resp = client.post("/api/project", json={"name": "n"}, headers={**ann, "Idempotency-Key": bad})
        assert resp.status_code == 400 and "Idempotency-Key" in resp.json()["detail"], bad
    # no token: the route's own 401, nothing recorded
    assert client.post("/api/project", json={"name": "n"}, headers={"Idempotency-Key": "k"}).status_code == 401
    # the auth routes ignore it: their answers are tokens, never stored
    body = {"email": "ann@example.com", "password": "password123"}
    logins = [client.post("/api/auth/login", json=body, headers={"Idempotency-Key": "L"}) for _ in range(2)]
    assert all(r.status_code == 200 and "idempotent-replayed" not in r.headers for r in logins)
    assert all("accessToken" not in str(i) for i in _items("IDEMPOTENCY#"))


def test_errors_worth_retrying_are_not_kept(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = {**_register(client, "flaky@example.com"), "Idempotency-Key": "retry-me"}
    real, calls = jobs.create, []

    def failing_once(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the table is unreachable")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "create", failing_once)
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        assert c.post("/api/process/upload-url", json=UPLOAD, headers=auth).status_code == 500
        assert _items("IDEMPOTENCY#") == []  # released: the retry runs again
        retry = c.post("/api/process/upload-url", json=UPLOAD, headers=auth)
    assert retry.status_code == 200 and "idempotent-replayed" not in retry.headers
    assert len(calls) == 2


def test_a_retry_while_the_first_runs_is_a_409(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = {**_register(client, "slow@example.com"), "Idempotency-Key": "slow-1"}
    real, entered, release = jobs.create, threading.Event(), threading.Event()

    def slow(*args: Any, **kwargs: Any) -> dict[str, Any]:
        entered.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "create", slow)
    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(client.post("/api/process/upload-url", json=UPLOAD,
                                                                      headers=auth)))
    worker.start()
    assert entered.wait(10)
    second = client.post("/api/process/upload-url", json=UPLOAD, headers=auth)
    release.set()
    worker.join(10)
    assert second.status_code == 409 and "still being carried out" in second.json()["detail"]
    assert first[0].status_code == 200
    third = client.post("/api/process/upload-url", json=UPLOAD, headers=auth)
    assert third.json() == first[0].json() and third.headers["idempotent-replayed"] == "true"


def test_an_upload_is_hashed_and_handed_on_whole(client: TestClient) -> None:
    auth = {**_register(client, "img@example.com"), "Idempotency-Key": "img-1"}
    char = client.post("/api/v1/characters", json={"name": "Ada"}, headers=auth).json()["data"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 600  # past one 64 KiB chunk
    files = {"image": ("ada.png", png, "image/png")}
    first = client.post(f"/api/v1/characters/{char['id']}/images", files=files, headers=auth)
    again = client.post(f"/api/v1/characters/{char['id']}/images", files=files, headers=auth)
    assert first.status_code in (201, 400), first.text  # what the route says of these bytes...
    assert again.status_code == first.status_code and again.json() == first.json()  # ...said once
    assert again.headers["idempotent-replayed"] == "true"


def test_job_submissions_are_limited_per_user(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOB_SUBMISSIONS_PER_MINUTE", "3")
    get_settings.cache_clear()
    ann, bob = _register(client, "lim-a@example.com"), _register(client, "lim-b@example.com")
    answers = [client.post("/api/process/upload-url", json=UPLOAD, headers=ann) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and "at most 3 a minute" in refused.json()["detail"]
    assert len(_jobs_of(client, ann)) == 3  # the refused one made nothing
    assert client.post("/api/process/upload-url", json=UPLOAD, headers=bob).status_code == 200
    # the studio's envelope, and a route that is not a job submission is not counted
    studio = client.post("/api/v1/projects/x/generate-media", headers=ann)
    assert studio.status_code == 429 and studio.json()["error"]["code"] == "RATE_LIMITED"
    assert client.post("/api/project", json={"name": "fine"}, headers=ann).status_code == 201
    for path in ("/api/project", "/api/projects"):  # seed 000's and AutoVio's: a URL is fetched by a job
        assert client.post(path, json={"name": "v", "video_url": "http://93.184.216.34/v.mp4"},
                           headers=ann).status_code == 429, path
    # a 429 is not kept for an Idempotency-Key: the retry after the window runs
    assert client.post("/api/process/upload-url", json=UPLOAD,
                       headers={**ann, "Idempotency-Key": "later"}).status_code == 429
    assert _items("IDEMPOTENCY#") == []


def test_no_limit_when_set_to_zero(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOB_SUBMISSIONS_PER_MINUTE", "0")
    get_settings.cache_clear()
    auth = _register(client, "free@example.com")
    assert all(client.post("/api/process/upload-url", json=UPLOAD, headers=auth).status_code == 200
               for _ in range(5))
    assert _items("RATE#") == []


def test_a_route_that_makes_a_job_must_declare_it(client: TestClient) -> None:
    """quotas.check_admitted: inside a request, only a SUBMITS_JOB route may create a job."""
    with quotas.in_request(), pytest.raises(RuntimeError, match="SUBMITS_JOB"):
        jobs.create("someone", "clips")
    assert jobs.create("someone", "clips")["status"] == "queued"  # outside a request: a step, a trigger
