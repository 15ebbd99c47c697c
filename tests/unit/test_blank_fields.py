"""Optional fields sent empty mean "absent", as a form-based client sends them: one test per
seed body with optional fields (seed 000's project, seed 002's process as JSON and as a
form, and the process upload URL that takes the same options)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from reelforge import jobs
from reelforge.api import create_app
from reelforge.clips.schemas import ProcessOptions
from reelforge.fields import OptionalStr, OptionalUrl


@pytest.fixture
def api(aws_mock: None) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        resp = client.post("/api/auth/register", json={"email": "f@example.com",
                                                       "password": "password123", "name": "F"})
        client.headers["Authorization"] = f"Bearer {resp.json()['accessToken']}"
        yield client


def test_the_shared_type_turns_blank_into_absent_and_still_validates() -> None:
    class Body(BaseModel):
        note: OptionalStr = None
        link: OptionalUrl = None

    assert Body(note="", link="").model_dump() == {"note": None, "link": None}
    assert Body(note="  ", link=" ").note is None
    assert Body(note="hi").note == "hi"
    with pytest.raises(ValidationError):
        Body(link="not a url")


def test_seed000_project_form_with_empty_optional_fields(api: TestClient) -> None:
    resp = api.post("/api/project", json={"name": "demo", "description": "", "video_url": ""})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["name"] == "demo" and body["description"] == "" and body["video_url"] is None
    assert "ingest_job_id" not in body  # no URL: nothing to fetch
    assert api.post("/api/project", json={"name": "", "description": "", "video_url": ""}).json()[
        "name"] == "Untitled project"
    bad = api.post("/api/project", json={"name": "demo", "video_url": "not a url"})
    assert bad.status_code == 422 and "video_url" in bad.json()["detail"]


def test_seed002_process_json_with_empty_url_is_no_url(api: TestClient) -> None:
    resp = api.post("/api/process", json={"url": "", "language": "", "clip_count": ""})
    assert resp.status_code == 400 and resp.json()["detail"] == "Neither url nor file provided"


def test_seed002_process_form_with_empty_optional_fields(api: TestClient) -> None:
    fields = {"url": "", "language": "", "whisper_model": "", "clip_count": "", "min_duration": "",
              "max_duration": "", "captions": "", "aspect": "", "layout": "", "caption_style": ""}
    resp = api.post("/api/process", data=fields, files={"file": ("talk.mp4", b"\x00" * 64, "video/mp4")})
    assert resp.status_code == 200, resp.text
    params = ProcessOptions(**jobs.get(resp.json()["job_id"])["params"]["options"])
    assert params.model_dump() == {"clip_count": None, "min_duration": 15.0, "max_duration": 60.0,
                                   "language": None, "whisper_model": None, "aspect": "9:16",
                                   "layout": "auto", "captions": True, "caption_style": "bold"}


def test_process_upload_url_with_empty_optional_fields(api: TestClient) -> None:
    resp = api.post("/api/process/upload-url", json={
        "file_name": "talk.mp4", "content_type": "video/mp4", "language": "", "whisper_model": "",
        "clip_count": ""})
    assert resp.status_code == 200, resp.text
    options = ProcessOptions(**jobs.get(resp.json()["job_id"])["params"]["options"])
    assert options.language is None and options.clip_count is None and options.whisper_model is None
