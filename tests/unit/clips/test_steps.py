"""Each step of the `process` state machine, run on its sample event (tests/events/clips/)
against moto over HTTP, with real media: what it writes to S3 and DynamoDB, and what it
refuses."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import av
import mediagen
import pytest
from stepevents import load_event

from reelforge import jobs, slots
from reelforge.blobs import Blobs
from reelforge.clips import steps
from reelforge.clips.service import KIND
from reelforge.errors import InvalidMediaError
from reelforge.models import Scene, Transcript, TranscriptSegment, Word
from reelforge.workflow import lambda_step

# What powertools reads from the Lambda context.
CONTEXT = SimpleNamespace(function_name="clips-acquire-slot", memory_limit_in_mb=1024,
                          invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:x",
                          aws_request_id="req-1")

SENTENCES = ["Why do short clips work so well?",
             "Because people decide in the first three seconds.",
             "So open with the answer, then explain it."]


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> mediagen.TalkVideo:
    return mediagen.talk_video(tmp_path_factory.mktemp("talk") / "talk.mp4", sentences=SENTENCES,
                               size=(640, 360), scene_cut_every_s=3.0)


@pytest.fixture
def job(moto_server: str) -> dict:
    return jobs.create("owner-1", KIND)


@pytest.fixture
def video_key(moto_server: str, talk: mediagen.TalkVideo, job: dict) -> str:
    key = f"process-uploads/owner-1/{job['id']}/talk.mp4"
    Blobs().put_file(key, talk.path, "video/mp4")
    return key


def _put_json(key: str, value: object) -> str:
    Blobs().put_bytes(key, json.dumps(value).encode(), "application/json")
    return key


def _transcript(duration: float) -> Transcript:
    """Two spoken sentences with word timings, as transcribe writes them."""
    words, t = [], 0.3
    for token in ["Why", "do", "short", "clips", "work", "so", "well", "?", "Because", "people", "decide", "in", "seconds", "."]:
        words.append(Word(word=f" {token}", start=round(t, 2), end=round(t + 0.3, 2)))
        t += 0.42
    return Transcript(language="en", duration=duration, segments=[
        TranscriptSegment(start=words[0].start, end=words[-1].end,
                          text=" ".join(w.word.strip() for w in words), words=words)])


def test_acquire_slot_takes_a_slot_and_starts_the_job(job: dict) -> None:
    out = lambda_step(steps.acquire_slot_step)(load_event("clips", "acquire_slot", job_id=job["id"]), CONTEXT)
    assert out == {"slot": 0}
    assert jobs.get(job["id"])["status"] == jobs.RUNNING
    # A retried step keeps its slot instead of taking a second one.
    assert steps.acquire_slot_step(load_event("clips", "acquire_slot", job_id=job["id"])) == {"slot": 0}
    slots.release(KIND, job["id"])


def test_ingest_of_an_upload_passes_its_key_on(job: dict, video_key: str) -> None:
    event = load_event("clips", "ingest", job_id=job["id"], video_key=video_key)
    assert steps.ingest_step(event) == {"video_key": video_key}
    gone = load_event("clips", "ingest", job_id=job["id"], video_key="process-uploads/x/y/none.mp4")
    with pytest.raises(InvalidMediaError, match="missing"):
        steps.ingest_step(gone)


def test_probe_reads_the_video_over_a_presigned_url(job: dict, video_key: str,
                                                    talk: mediagen.TalkVideo) -> None:
    info = steps.probe_step(load_event("clips", "probe", job_id=job["id"], video_key=video_key))
    assert (info["width"], info["height"]) == talk.size
    assert info["duration"] == pytest.approx(talk.duration, abs=0.1)
    assert info["has_audio"] and info["has_video"]


def test_probe_refuses_audio_only(job: dict, tmp_path: Path) -> None:
    key = "process-uploads/owner-1/a/tone.m4a"
    Blobs().put_file(key, mediagen.tone_audio(tmp_path / "tone.m4a", seconds=4.0), "audio/mp4")
    with pytest.raises(InvalidMediaError, match="no video stream"):
        steps.probe_step(load_event("clips", "probe", job_id=job["id"], video_key=key))


def test_transcribe_writes_the_words_with_times(job: dict, video_key: str) -> None:
    out = steps.transcribe_step(load_event("clips", "transcribe", job_id=job["id"], video_key=video_key))
    assert out["language"] == "en"
    transcript = Transcript.model_validate_json(Blobs().get_bytes(out["transcript_key"]))
    spoken = " ".join(w.word.strip(" ,.?!").lower() for w in transcript.words())
    assert "short clips" in spoken and "first three seconds" in spoken
    assert all(a.start <= b.start for a, b in zip(transcript.words(), transcript.words()[1:], strict=False))


def test_detect_scenes_finds_the_rendered_cuts(job: dict, video_key: str,
                                               talk: mediagen.TalkVideo) -> None:
    out = steps.detect_scenes_step(load_event("clips", "detect_scenes", job_id=job["id"],
                                              video_key=video_key))
    scenes = [Scene(**s) for s in json.loads(Blobs().get_bytes(out["scenes_key"]))]
    assert out["scene_count"] == len(talk.cut_times) + 1 == len(scenes)
    for cut, scene in zip(talk.cut_times, scenes[1:], strict=True):
        assert scene.start == pytest.approx(cut, abs=1 / talk.fps + 1e-6)


def test_select_moments_picks_clips_within_the_limits(job: dict) -> None:
    prefix = f"artifacts/jobs/{job['id']}/"
    event = load_event("clips", "select_moments", job_id=job["id"],
                       transcript_key=_put_json(f"{prefix}transcript.json",
                                                _transcript(24.0).model_dump()),
                       scenes_key=_put_json(f"{prefix}scenes.json",
                                            [{"start": 0.0, "end": 12.0}, {"start": 12.0, "end": 24.0}]))
    out = steps.select_moments_step(event)
    assert out["provider"] == "local" and len(out["clips"]) == 1
    clip = out["clips"][0]
    assert 5.0 - 1e-6 <= clip["end"] - clip["start"] <= 12.0 + 1e-6
    assert clip["index"] == 1 and clip["title"]
    assert Blobs().exists(f"{prefix}moments.json")


def test_render_clip_writes_a_vertical_captioned_clip_and_sidecars(job: dict, video_key: str) -> None:
    prefix = f"artifacts/jobs/{job['id']}/"
    transcript_key = _put_json(f"{prefix}transcript.json", _transcript(8.0).model_dump())
    scenes_key = _put_json(f"{prefix}scenes.json", [{"start": 0.0, "end": 3.0}, {"start": 3.0, "end": 8.0}])
    out = steps.render_clip_step(load_event("clips", "render_clip", job_id=job["id"], video_key=video_key,
                                            transcript_key=transcript_key, scenes_key=scenes_key))
    assert (out["width"], out["height"]) == (1080, 1920)
    assert out["duration"] == pytest.approx(5.2, abs=0.1)
    for kind in ("video", "thumbnail", "srt", "vtt"):
        assert Blobs().exists(out[f"{kind}_key"]), kind
    srt = Blobs().get_bytes(out["srt_key"]).decode().lower()
    assert "short" in srt and "clips" in srt
    with av.open(Blobs().presign_get(out["video_key"])) as container:
        assert container.streams.video[0].height == 1920 and container.streams.audio
    assert jobs.done_count(jobs.get(job["id"]), "clips_done") == 1


def test_publish_writes_the_manifest_completes_and_frees_the_slot(job: dict) -> None:
    slots.acquire(KIND, job["id"], limit=5)
    keys = {name: _put_json(f"artifacts/jobs/{job['id']}/{name}", {}) for name in
            ("transcript_key", "video_key", "thumbnail_key", "srt_key", "vtt_key")}
    out = steps.publish_step(load_event("clips", "publish", job_id=job["id"], **keys))
    manifest = json.loads(Blobs().get_bytes(out["manifest_key"]))
    assert out["clip_count"] == 1 and manifest["clips"][0]["name"] == "clip_01"
    done = jobs.get(job["id"])
    assert done["status"] == jobs.COMPLETED and done["result"]["manifest_key"] == out["manifest_key"]
    assert slots.acquire(KIND, "next-job", limit=1) == 0  # the only slot is free again
    slots.release(KIND, "next-job")


def test_mark_failed_says_why_without_internals_and_frees_the_slot(job: dict) -> None:
    slots.acquire(KIND, job["id"], limit=1)
    out = steps.mark_failed_step(load_event("clips", "mark_failed", job_id=job["id"]))
    assert out == {"error": "the file has no video stream; clips need a picture"}
    failed = jobs.get(job["id"])
    assert failed["status"] == jobs.FAILED and "steps.py" not in failed["error"]
    assert slots.acquire(KIND, "next-job", limit=1) == 0
    slots.release(KIND, "next-job")
