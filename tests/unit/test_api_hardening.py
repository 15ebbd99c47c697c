"""Inputs that used to end in a 500, a stuck job or a broken timeline: each gets a clear 4xx
(or 5xx with a `detail`) and leaves what is stored as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from reelforge import blobs, jobs
from reelforge.api import create_app
from reelforge.blobs import Blobs
from reelforge.clips import service as clips_service
from reelforge.editor import timeline
from reelforge.errors import ProviderError, TransientError
from reelforge.media.probe import display_name
from reelforge.projects import service as projects
from reelforge.settings import get_settings


@pytest.fixture
def api(aws_mock: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # A real (moto) state machine for grade jobs to start on; moto does not run it here.
    sfn = boto3.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/test"
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    arn = sfn.create_state_machine(name="edit", definition=definition, roleArn=role)["stateMachineArn"]
    monkeypatch.setenv("EDIT_STATE_MACHINE_ARN", arn)
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        resp = client.post("/api/auth/register", json={"email": "h@example.com",
                                                       "password": "password123", "name": "H"})
        client.headers["Authorization"] = f"Bearer {resp.json()['accessToken']}"
        yield client


def _user_id(api: TestClient) -> str:
    return api.get("/api/me").json()["id"]


def _timeline_project(api: TestClient, seconds: float = 10.0) -> dict[str, Any]:
    owner = _user_id(api)
    project = projects.create(owner, "p")
    timeline.init_timeline(project, f"uploads/{owner}/{project['id']}/a/v.mp4", seconds, 640, 360)
    return projects.get(owner, project["id"])


def _timeline(api: TestClient, project_id: str) -> list[tuple[str, str]]:
    body = api.get(f"/api/project/{project_id}").json()
    return [(s["id"], s["status"]) for s in body["segments"]]


def _grade_jobs(api: TestClient) -> list[dict[str, Any]]:
    return [j for j in jobs.list_for_owner(_user_id(api)) if j["kind"] == "grade"]


def test_a_rendering_segment_cannot_be_graded_split_or_trimmed(api: TestClient) -> None:
    project = _timeline_project(api)
    original = timeline.placed(project)[0].segment["id"]
    first = api.post(f"/api/segment/{original}/color-grade", json={"brightness": 20})
    assert first.status_code == 200, first.text
    graded = first.json()["segment_id"]
    before = _timeline(api, project["id"])
    assert before == [(graded, "rendering")]

    for path, body in ((f"/api/segment/{graded}/color-grade", {"brightness": 10}),
                       (f"/api/segment/{graded}/split", {"split_ts": 5.0}),
                       (f"/api/segment/{graded}/trim", {"new_start_ts": 1.0, "new_end_ts": 4.0})):
        resp = api.post(path, json=body)
        assert resp.status_code == 400, (path, resp.text)
        assert "still rendering" in resp.json()["detail"]
    assert _timeline(api, project["id"]) == before
    assert len(_grade_jobs(api)) == 1  # the refused grade left no job behind


def test_a_refused_grade_leaves_no_queued_job(api: TestClient) -> None:
    project = _timeline_project(api)
    original = timeline.placed(project)[0].segment["id"]
    assert api.post(f"/api/segment/{original}/color-grade", json={"contrast": 10}).status_code == 200
    again = api.post(f"/api/segment/{original}/color-grade", json={"contrast": 10})
    assert again.status_code == 400 and "not on the timeline" in again.json()["detail"]
    assert [j["status"] for j in _grade_jobs(api)] == ["queued"]  # only the accepted one


def test_a_grade_that_loses_a_race_fails_its_job(api: TestClient, monkeypatch) -> None:
    """The timeline changes between the checks and the commit: 409, and the job says why."""
    project = _timeline_project(api)
    original = timeline.placed(project)[0].segment["id"]
    real_replace = timeline.replace

    def split_first(owner: str, segment_id: str, replacement: dict) -> int:
        timeline.split(owner, segment_id, 5.0)  # another editor's commit lands first
        return real_replace(owner, segment_id, replacement)

    monkeypatch.setattr(timeline, "replace", split_first)
    resp = api.post(f"/api/segment/{original}/color-grade", json={"contrast": 10})
    assert resp.status_code in (400, 409), resp.text
    [job] = _grade_jobs(api)
    assert job["status"] == "failed" and job["error"]


def test_accepting_over_a_rendering_segment_is_refused(api: TestClient) -> None:
    project = _timeline_project(api)
    original = timeline.placed(project)[0].segment["id"]
    assert api.post(f"/api/segment/{original}/color-grade", json={"saturation": 5}).status_code == 200
    project = projects.get(_user_id(api), project["id"])
    before = _timeline(api, project["id"])
    variant = timeline.new_segment(project, media_key="v.mp4", start_ts=0.0, end_ts=2.0,
                                   source="variant", variant_id="var1")
    with pytest.raises(timeline.EditError, match="still rendering"):
        timeline.place_range(_user_id(api), project["id"], 1.0, 3.0, variant)
    assert _timeline(api, project["id"]) == before


@pytest.mark.parametrize("raw", [
    '{"start": 0, "end": Infinity}', '{"start": 0, "end": 1e999}', '{"start": NaN, "end": 1}',
    '{"start": true, "end": 2}', '{"start": "0", "end": 2}',
])
def test_strip_refuses_non_finite_or_non_numeric_times(api: TestClient, raw: str) -> None:
    pid = _timeline_project(api)["id"]
    resp = api.post(f"/api/project/{pid}/preview/strip", content=raw,
                    headers={"Content-Type": "application/json"})
    assert resp.status_code == 422 and resp.json()["detail"]


def test_a_huge_strip_is_refused_before_anything_overflows(api: TestClient) -> None:
    pid = _timeline_project(api)["id"]
    resp = api.post(f"/api/project/{pid}/preview/strip", json={"start": 0, "end": 1e308, "fps": 30})
    assert resp.status_code == 400 and "at most" in resp.json()["detail"]
    missing = api.post("/api/project/nope/preview/strip", json={"start": 0, "end": 1e308, "fps": 30})
    assert missing.status_code == 404


def test_booleans_are_not_timestamps(api: TestClient) -> None:
    project = _timeline_project(api)
    seg = timeline.placed(project)[0].segment["id"]
    assert api.post(f"/api/segment/{seg}/split", json={"split_ts": True}).status_code == 422
    assert len(_timeline(api, project["id"])) == 1


MULTIPART = "multipart/form-data; boundary=XyZbound"


@pytest.mark.parametrize("body", [
    b"this is not multipart at all",
    b"--other\r\nContent-Disposition: form-data; name=\"url\"\r\n\r\nx\r\n--other--\r\n",
    b"--XyZbound\r\nno colon here\r\n\r\nx\r\n--XyZbound--\r\n",
])
def test_malformed_multipart_is_a_400(api: TestClient, body: bytes) -> None:
    resp = api.post("/api/process", content=body, headers={"Content-Type": MULTIPART})
    assert resp.status_code == 400 and resp.json()["detail"]


def test_a_truncated_multipart_upload_is_refused(api: TestClient) -> None:
    body = (b"--XyZbound\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.mp4\"\r\n"
            b"Content-Type: video/mp4\r\n\r\n" + b"\x00" * 5000)  # no closing boundary
    resp = api.post("/api/process", content=body, headers={"Content-Type": MULTIPART})
    assert resp.status_code == 400 and "closing boundary" in resp.json()["detail"]
    assert not [j for j in jobs.list_for_owner(_user_id(api)) if j["kind"] == "process"]


@pytest.mark.parametrize("header", ["X-Gemini-Key", "x-api-key"])
def test_provider_keys_must_be_ascii(api: TestClient, header: str) -> None:
    key = "cl\u00e9-\u00e9t\u00e9".encode().decode("latin-1")  # what a UTF-8 header arrives as
    resp = api.get("/api/ai/health", headers={header: key.encode("latin-1")})
    assert resp.status_code == 422 and resp.json()["detail"].startswith(header.lower() + ":")
    assert key not in resp.text
    if header == "X-Gemini-Key":
        sent = api.post("/api/process", json={"url": "https://example.com/v.mp4"},
                        headers={header: key.encode("latin-1")})
        assert sent.status_code == 422 and key not in sent.text


def test_an_odd_last_event_id_replays_from_the_start(api: TestClient) -> None:
    job = jobs.create(_user_id(api), "ingest")
    jobs.complete(job["id"], {"ok": True})
    resp = api.get(f"/api/progress/{job['id']}", headers={"Last-Event-ID": "\u00b2".encode("latin-1")})
    assert resp.status_code == 200
    assert "event: done" in resp.text or "completed" in resp.text


def test_named_errors_from_synchronous_routes_keep_their_meaning(aws_mock: None) -> None:
    app = create_app()

    def throttled() -> None:
        raise TransientError("Gemini is unavailable or throttling (429)")

    def refused() -> None:
        raise ProviderError("Gemini rejected the API key")

    def crashed() -> None:
        raise KeyError("media_key")

    for path, fn in (("/t/throttled", throttled), ("/t/refused", refused), ("/t/crashed", crashed)):
        app.add_api_route(path, fn)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/t/throttled").status_code == 503
        assert client.get("/t/throttled").json()["detail"].startswith("Gemini is unavailable")
        assert client.get("/t/refused").status_code == 502
        crashed_resp = client.get("/t/crashed")
        assert crashed_resp.status_code == 500
        assert crashed_resp.json() == {"detail": "Internal server error"}  # no internals


def test_blank_required_names_are_refused_blank_optional_ones_are_absent(api: TestClient) -> None:
    # A project's name is optional: blank (as a form sends it) means "not given".
    unnamed = api.post("/api/project", json={"name": "   "})
    assert unnamed.status_code == 201 and unnamed.json()["name"] == "Untitled project"
    named = api.post("/api/project", json={"name": "  Trip  "})
    assert named.status_code == 201 and named.json()["name"] == "Trip"
    assert api.post("/api/auth/register", json={"email": "b@example.com", "password": "password123",
                                                 "name": " \t "}).status_code == 422


def test_a_narrow_token_cannot_revoke_a_wider_one(api: TestClient) -> None:
    wide = api.post("/api/tokens", json={"name": "deploy", "scopes": ["projects:write", "jobs:read"]})
    narrow = api.post("/api/tokens", json={"name": "reader", "scopes": ["jobs:read"]})
    as_narrow = {"Authorization": f"Bearer {narrow.json()['token']}"}
    refused = api.delete(f"/api/tokens/{wide.json()['meta']['id']}", headers=as_narrow)
    assert refused.status_code == 403 and "projects:write" in refused.json()["detail"]
    assert len(api.get("/api/tokens").json()) == 2
    assert api.delete(f"/api/tokens/{narrow.json()['meta']['id']}", headers=as_narrow).status_code == 204


def test_an_empty_project_upload_is_marked_failed(api: TestClient) -> None:
    pid = api.post("/api/project", json={"name": "p"}).json()["id"]
    asset_id = api.post(f"/api/project/{pid}/upload",
                        json={"file_name": "e.mp4", "content_type": "video/mp4"}).json()["asset_id"]
    asset = projects.get_asset(pid, asset_id)
    Blobs().put_bytes(asset["s3_key"], b"")
    outcome = projects.on_upload(asset["s3_key"], 0)
    assert outcome["outcome"] == "failed"
    assert projects.get_asset(pid, asset_id)["status"] == projects.ASSET_FAILED
    assert projects.get_asset(pid, asset_id)["error"] == "the uploaded file is empty"


def test_an_empty_process_upload_fails_its_job(api: TestClient) -> None:
    made = api.post("/api/process/upload-url", json={"file_name": "e.mp4", "content_type": "video/mp4"})
    job_id = made.json()["job_id"]
    key = clips_service.upload_key(jobs.get(job_id), "e.mp4")  # where upload_url points
    assert key.split("?")[0] in made.json()["upload_url"]
    Blobs().put_bytes(key, b"")
    assert clips_service.on_upload(key, 0)["outcome"] == "failed"
    job = jobs.get(job_id)
    assert job["status"] == "failed" and job["error"] == "the uploaded file is empty"


def test_messages_name_a_presigned_object_by_its_file_name() -> None:
    signed = ("http://127.0.0.1:4566/reelforge-local-bucket/uploads/u1/p1/a1/my%20clip.mp4"
              "?X-Amz-Signature=abc&X-Amz-Credential=k")
    assert display_name(signed) == "my clip.mp4"
    assert display_name("https://example.com/media/talk.mp4?t=3") == "https://example.com/media/talk.mp4"


def test_an_ai_edit_over_a_rendering_segment_is_refused_up_front(api: TestClient) -> None:
    project = _timeline_project(api)
    original = timeline.placed(project)[0].segment["id"]
    assert api.post(f"/api/segment/{original}/color-grade", json={"gamma": 1.2}).status_code == 200
    resp = api.post("/api/ai/generate", json={
        "project_id": project["id"], "prompt": "blur", "start_ts": 1, "end_ts": 2,
        "bounding_box": {"x": 0, "y": 0, "width": 50, "height": 50}})
    assert resp.status_code == 400 and "still rendering" in resp.json()["detail"]
    assert not [j for j in jobs.list_for_owner(_user_id(api)) if j["kind"] == "edit"]


@pytest.mark.parametrize(("path", "body"), [
    ("/api/tokens", {"name": "t", "scopes": ["jobs:read"], "expiresInDays": True}),
    ("/api/project", {"name": "a\u0000b"}),
    ("/api/tokens", {"name": "line\nbreak", "scopes": ["jobs:read"]}),
])
def test_booleans_and_control_characters_are_refused(api: TestClient, path: str, body: dict) -> None:
    assert api.post(path, json=body).status_code == 422


def test_grades_take_numbers_not_booleans(api: TestClient) -> None:
    project = _timeline_project(api)
    seg = timeline.placed(project)[0].segment["id"]
    assert api.post(f"/api/segment/{seg}/color-grade", json={"brightness": True}).status_code == 422
    assert not _grade_jobs(api)


def test_a_file_name_of_only_unsafe_characters_keeps_its_extension() -> None:
    assert blobs.safe_file_name("\u0000.mp4", default="upload.mp4") == "upload.mp4"
    assert blobs.safe_file_name("..mov", default="file") == "file.mov"
    assert blobs.safe_file_name("clip one.mp4") == "clip_one.mp4"


def test_request_bodies_are_capped(api: TestClient) -> None:
    big = json.dumps({"name": "p", "description": "x" * (2 << 20)})
    resp = api.post("/api/project", content=big, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and "larger than" in resp.json()["detail"]

    def chunks():  # no Content-Length: the cap applies while reading
        for _ in range(40):
            yield b"x" * 65536

    streamed = api.post("/api/project", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and "larger than" in streamed.json()["detail"]
    assert api.post("/api/project", json={"name": "fine", "description": "y" * 5000}).status_code == 201


def test_a_refused_cors_preflight_is_json(api: TestClient) -> None:
    resp = api.options("/api/project", headers={"Origin": "http://evil.example",
                                                "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 400
    assert resp.json() == {"detail": "Disallowed CORS origin"}
    assert "access-control-allow-origin" not in resp.headers
    ok = api.options("/api/project", headers={"Origin": "http://localhost:5173",
                                              "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://localhost:5173"
