"""Generations (moto's in-process AWS): topic slugs, seed 003's progress frames, signed video
links, one render at a time, and which names the video route answers for."""

from __future__ import annotations

import time

import pytest

from reelforge import auth, jobs
from reelforge.ai.choice import ProviderChoice
from reelforge.errors import Conflict
from reelforge.narrate import service
from reelforge.narrate.schemas import GenerateBody
from reelforge.settings import get_settings
from reelforge.store import Keys, NotFound, Table

OWNER, OTHER = "user-1", "user-2"


@pytest.fixture
def generation(aws_mock: None, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A generation whose first job exists (the execution start is recorded, not run)."""
    started: list[str] = []
    monkeypatch.setattr(service, "start_execution", lambda arn, job_id, payload: started.append(job_id))
    gen = service.create_generation(OWNER, GenerateBody(topic="Solar: is it worth it?"),
                                    ProviderChoice(name="local"))
    assert started == [gen["job_id"]]
    return gen


def test_both_slugs_of_seed_003_name_the_newest_generation() -> None:
    assert service.topic_slugs("AI/ML: what's new?") == {"AIML_whats_new", "AI_ML_whats_new"}
    assert service.topic_slugs("x" * 40) == {"x" * 30}


def test_status_and_progress_resolve_generation_ids_and_slugs(generation: dict) -> None:
    job = jobs.get_for(generation["id"], OWNER)
    assert job["id"] == generation["job_id"]
    assert jobs.get_for("Solar_is_it_worth_it", OWNER)["id"] == generation["job_id"]
    with pytest.raises(NotFound):
        jobs.get_for(generation["id"], OTHER)
    with pytest.raises(NotFound):
        jobs.get_for("Solar_is_it_worth_it", OTHER)


def test_frames_speak_seed_003() -> None:
    frame = service.progress_frame({"status": "running", "stage": "generating_audio", "progress": 33,
                                    "message": "✅ Generated audio for slide 1/5 (4.0s)",
                                    "timestamp": "2026-12-01T10:11:12.345Z"})
    assert frame["status"] == "generating_audio" and frame["timestamp"] == "10:11:12"
    failed = service.progress_frame({"status": "failed", "error": "ffmpeg failed", "message": "Error: ffmpeg failed",
                                     "progress": 40, "timestamp": "2026-12-01T10:11:12Z"})
    assert failed["status"] == "error" and failed["message"] == "❌ Error: ffmpeg failed" and failed["progress"] == 0
    assert service.progress_frame({"status": "connected", "progress": 0})["message"] == "📡 Connected to progress stream"
    assert service.progress_frame({"status": "done", "progress": 100})["message"] == "✅ Stream ended"
    assert service.progress_frame({"status": "running", "stage": "starting"})["status"] == "started"


def test_one_render_at_a_time(generation: dict) -> None:
    Table().update(Keys.generation(generation["id"]), {"has_script": True})
    with pytest.raises(Conflict):  # the first job is still queued
        service.start_render(generation["id"], OWNER, ProviderChoice(name="local"))
    jobs.fail(generation["job_id"], "stopped for the test")
    job = service.start_render(generation["id"], OWNER, ProviderChoice(name="local"))
    assert service.get_generation(generation["id"], OWNER)["job_id"] == job["id"]
    with pytest.raises(NotFound):
        service.start_render(generation["id"], OTHER, ProviderChoice(name="local"))
    # a generation outlives its jobs (they expire after JOB_RETENTION_SECONDS): still editable
    jobs.fail(job["id"], "stopped for the test")
    Table().delete(Keys.job(job["id"]))
    assert service.start_render(generation["id"], OWNER, ProviderChoice(name="local"))["id"] != job["id"]


def test_signed_links_and_video_names(generation: dict) -> None:
    gid = generation["id"]
    name = service.video_filename(gid)
    with pytest.raises(NotFound):  # not rendered yet
        service.video_for(name, OWNER)
    Table().update(Keys.generation(gid), {"video_ready": True, "video_key": "k.mp4"})
    assert service.video_for(name, OWNER)[1] == "k.mp4"
    with pytest.raises(NotFound):
        service.video_for(name, OTHER)
    url = service.signed_video_url(service.get_generation(gid, OWNER))
    query = dict(part.split("=") for part in url.split("?")[1].split("&"))
    assert service.video_for(name, None, **query)[1] == "k.mp4"
    with pytest.raises(NotFound):  # the signature covers the name
        service.video_for(service.video_filename("0" * 32), None, **query)
    with pytest.raises(NotFound):
        forged = ("1" if query["sig"][0] == "0" else "0") + query["sig"][1:]  # one hex digit changed
        service.video_for(name, None, expires=query["expires"], sig=forged)
    expired = auth.sign_path(OWNER, service.VIDEO_ROUTE + name, -10)
    with pytest.raises(NotFound):
        service.video_for(name, None, **expired)
    for bad in ("../content.json", f"{gid}.mp4", f"{gid}_final.mp4/../x", "", f"{gid.upper()}_final.mp4"):
        with pytest.raises(NotFound):
            service.video_for(bad, OWNER)
    assert get_settings().presign_ttl_s > 0 and int(query["expires"]) > time.time()
