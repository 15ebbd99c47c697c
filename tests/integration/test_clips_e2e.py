"""The clips pipeline over real HTTP on the embedded AWS: upload -> state machine -> clips."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import mediagen
import pytest

from reelforge import blobs, cleanup, slots
from reelforge.blobs import Blobs
from reelforge.clips import service as clips_service
from reelforge.settings import get_settings

pytestmark = pytest.mark.e2e

SENTENCES = [
    "Here is a question that every creator asks.",
    "Why do three out of four viewers leave in the first five seconds?",
    "The answer is simple and it costs nothing.",
    "Start with the result, then explain how you got there.",
    "We tested this on forty videos last year.",
    "Retention went up by thirty percent.",
    "So what should you do tomorrow morning?",
    "Open with a promise, and keep it within one minute.",
]
FAST = {"clip_count": "2", "whisper_model": "tiny.en", "min_duration": "8", "max_duration": "20"}


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> mediagen.TalkVideo:
    return mediagen.talk_video(tmp_path_factory.mktemp("talk") / "talk.mp4", sentences=SENTENCES,
                               size=(640, 360), scene_cut_every_s=6.0)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change server settings for one test (the handlers run in this process)."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def _submit_file(client: httpx.Client, path: Path, fields: dict[str, str], name: str = "talk.mp4") -> httpx.Response:
    with open(path, "rb") as fh:
        return client.post("/api/process", files={"file": (name, fh, "video/mp4")}, data=fields)


def _sse(client: httpx.Client, job_id: str) -> list[dict]:
    events = []
    with client.stream("GET", f"/api/progress/{job_id}", timeout=300) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["status"] == "done":
                    break
    return events


def test_upload_becomes_captioned_vertical_clips(stack, talk: mediagen.TalkVideo) -> None:
    client = stack.client(stack.register("clips"))
    resp = _submit_file(client, talk.path, FAST)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "queued"
    job_id = resp.json()["job_id"]

    events = _sse(client, job_id)
    assert events[0]["status"] == "connected" and events[-1]["status"] == "done"
    progress = [e["progress"] for e in events[1:-2] if e["status"] in ("queued", "running")]
    assert progress == sorted(progress), "progress went backwards"
    stages = {e.get("stage") for e in events}
    assert {"ingest", "probe", "transcribe", "select", "render"} <= stages

    status = client.get(f"/api/status/{job_id}").json()
    assert status["status"] == "completed", status
    assert status["progress"] == 100 and status["provider"] == "local"
    assert 1 <= len(status["clips"]) <= 2
    for clip in status["clips"]:
        assert 8 - 0.01 <= clip["duration"] <= 20 + 0.01
        assert 0 <= clip["score"] <= 100 and clip["title"] and clip["hook"] and clip["reason"]
        assert 0 <= clip["start"] < clip["end"] <= talk.duration + 0.05
        video = httpx.get(clip["video_url"]).content
        out = Path(f"/tmp/reelforge-e2e-{clip['id']}.mp4")
        out.write_bytes(video)
        with av.open(str(out)) as c:
            v = c.streams.video[0]
            assert (v.codec_context.width, v.codec_context.height) == (1080, 1920)
            assert v.codec_context.name == "h264" and len(c.streams.audio) == 1
            assert abs(c.duration / 1e6 - clip["duration"]) < 0.2
        srt = httpx.get(clip["srt_url"]).text
        assert "-->" in srt and any(w.lower() in srt.lower() for w in clip["text"].split()[:3])
        assert httpx.get(clip["vtt_url"]).text.startswith("WEBVTT")
        assert httpx.get(clip["thumbnail_url"]).content[:3] == b"\xff\xd8\xff"
    words = json.loads(httpx.get(status["transcript_url"]).content)
    assert words["language"] == "en" and words["segments"]

    other = stack.client(stack.register("intruder"))
    assert other.get(f"/api/status/{job_id}").status_code == 404
    assert other.get(f"/api/progress/{job_id}").status_code == 404
    assert other.get(f"/api/job/{job_id}").status_code == 404
    timeline = client.get("/api/ai/timeline").json()["operations"]
    assert timeline[0]["job_id"] == job_id and timeline[0]["status"] == "completed"


def test_square_clips_with_minimal_captions_through_the_api(stack, talk: mediagen.TalkVideo) -> None:
    """The output options reach the render: 1:1 clips, the minimal caption look."""
    client = stack.client(stack.register("square"))
    resp = _submit_file(client, talk.path, {**FAST, "clip_count": "1", "aspect": "1:1",
                                            "caption_style": "minimal", "layout": ""})
    assert resp.status_code == 200, resp.text
    status = stack.wait(client, f"/api/status/{resp.json()['job_id']}")
    assert status["status"] == "completed", status
    clip = status["clips"][0]
    assert (clip["width"], clip["height"]) == (1080, 1080)
    out = Path(f"/tmp/reelforge-e2e-square-{clip['id']}.mp4")
    out.write_bytes(httpx.get(clip["video_url"]).content)
    with av.open(str(out)) as c:
        assert (c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height) == (1080, 1080)
    # the minimal look groups up to 7 words a cue (bold: at most 3)
    srt = httpx.get(clip["srt_url"]).text
    assert max(len(b.split("\n")[2].split()) for b in srt.strip().split("\n\n")) > 3
    bad = client.post("/api/process", json={"url": "https://example.com/v.mp4", "aspect": "4:3"})
    assert bad.status_code == 422 and "aspect" in bad.json()["detail"]


def test_submission_errors(stack, talk: mediagen.TalkVideo, settings_env: pytest.MonkeyPatch) -> None:
    client = stack.client(stack.register("errors"))
    neither = client.post("/api/process", json={})
    assert neither.status_code == 400 and neither.json()["detail"] == "Neither url nor file provided"
    both = _submit_file(client, talk.path, {"url": "https://example.com/v.mp4"})
    assert both.status_code == 400 and "not both" in both.json()["detail"]
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/x.mp4",
                "http://10.0.0.8/v.mp4", "gopher://example.com/"):
        refused = client.post("/api/process", json={"url": url})
        assert refused.status_code == 400, url
        assert refused.json()["detail"].startswith("URL refused")
    assert client.post("/api/process", json={"url": "https://x.y/v.mp4", "clip_count": 99}).status_code == 422

    settings_env.setenv("REQUIRE_GEMINI_KEY", "true")
    get_settings.cache_clear()
    missing = client.post("/api/process", json={"url": "https://example.com/v.mp4"})
    assert missing.status_code == 400 and missing.json()["detail"] == "Missing X-Gemini-Key header"

    settings_env.delenv("REQUIRE_GEMINI_KEY")
    settings_env.setenv("MAX_FILE_SIZE_MB", "1")
    get_settings.cache_clear()

    def body() -> Iterator[bytes]:  # chunked: no Content-Length to refuse up front
        yield b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n"
        yield b"Content-Type: video/mp4\r\n\r\n"
        for _ in range(3 * 1024):
            yield b"\0" * 1024
        yield b"\r\n--B--\r\n"

    too_big = client.post("/api/process", content=body(),
                          headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert too_big.status_code == 413 and "1 MB" in too_big.json()["detail"]


def test_a_failing_step_fails_the_job_with_a_reason(stack, tmp_path: Path) -> None:
    client = stack.client(stack.register("broken"))
    bogus = mediagen.not_media(tmp_path / "notes.mp4")
    job_id = _submit_file(client, bogus, FAST, name="notes.mp4").json()["job_id"]
    status = stack.wait(client, f"/api/status/{job_id}", timeout=60)
    assert status["status"] == "failed"
    assert "not a media file" in status["error"] and "Traceback" not in status["error"]
    assert client.get(f"/api/job/{job_id}").json()["status"] == "failed"
    assert not [s for s in slots.Table().query_partition("SLOTS#process") if s["job_id"] == job_id]


@pytest.fixture
def media_server(talk: mediagen.TalkVideo) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(talk.path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{talk.path.name}"
    server.shutdown()


def test_concurrency_limit_queues_jobs_and_url_ingest(
    stack, talk: mediagen.TalkVideo, settings_env: pytest.MonkeyPatch, media_server: str
) -> None:
    settings_env.setenv("MAX_CONCURRENT_JOBS", "1")
    settings_env.setenv("INGEST_ALLOW_HOSTS", "127.0.0.1")  # the local media server
    get_settings.cache_clear()
    client = stack.client(stack.register("queue"))
    first = _submit_file(client, talk.path, {**FAST, "clip_count": "1"}).json()["job_id"]
    second = client.post("/api/process", json={"url": media_server, "clip_count": 1,
                                               "whisper_model": "tiny.en", "min_duration": 8,
                                               "max_duration": 20}).json()["job_id"]
    both_running = False
    deadline = time.time() + 300
    while time.time() < deadline:
        states = [client.get(f"/api/status/{j}").json()["status"] for j in (first, second)]
        both_running |= states == ["running", "running"]
        if all(s in ("completed", "failed") for s in states):
            break
        time.sleep(0.2)
    assert not both_running, "MAX_CONCURRENT_JOBS=1 but two jobs ran at once"
    assert states == ["completed", "completed"], [client.get(f"/api/status/{j}").json() for j in (first, second)]
    assert len(client.get(f"/api/status/{second}").json()["clips"]) == 1

    # Retention: once expired, the cleanup removes the job, its artifacts and its upload.
    keys = [k for k in Blobs().list_keys("") if first in k]
    assert any(k.startswith(clips_service.UPLOADS_PREFIX) for k in keys)
    assert any(k.startswith(blobs.job_prefix(first)) for k in keys)
    report = cleanup.run_cleanup(now=time.time() + get_settings().job_retention_seconds + 5)
    assert report["expired_jobs"] >= 2
    assert [k for k in Blobs().list_keys("") if first in k or second in k] == []
    assert client.get(f"/api/status/{first}").status_code == 404


def test_gemini_key_selects_gemini_and_is_never_stored(
    stack, talk: mediagen.TalkVideo, settings_env: pytest.MonkeyPatch
) -> None:
    """X-Gemini-Key: the real SDK calls the fake Gemini server; the key reaches it but is not
    written to DynamoDB, S3 or the execution history."""
    from fakes.fake_gemini import FakeGemini

    key = "AIzaE2E-secret-key-do-not-store-42"
    with FakeGemini(api_key=key) as fake:
        fake.reply_json([{"start": 0.3, "end": 12.5, "title": "Why viewers leave",
                          "hook": "Here is a question", "score": 91, "reason": "opens with a question"}])
        settings_env.setenv("GEMINI_BASE_URL", fake.base_url)
        get_settings.cache_clear()
        client = stack.client(stack.register("gemini"))
        client.headers["X-Gemini-Key"] = key
        resp = _submit_file(client, talk.path, {**FAST, "clip_count": "1"})
        status = stack.wait(client, f"/api/status/{resp.json()['job_id']}")
        assert status["status"] == "completed", status
        assert status["provider"] == "gemini"
        assert status["clips"][0]["title"] == "Why viewers leave" and status["clips"][0]["score"] == 91
        assert [r.api_key for r in fake.requests] == [key]

    import boto3

    dumped = json.dumps(list(slots.Table().scan()), default=str)
    assert key not in dumped
    store = Blobs()
    for k in store.list_keys(""):
        if not k.endswith(".mp4"):
            assert key.encode() not in store.get_bytes(k), k
    sfn = boto3.client("stepfunctions")
    arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        history = json.dumps(sfn.get_execution_history(executionArn=execution["executionArn"]), default=str)
        assert key not in history
        assert key not in json.dumps(sfn.describe_execution(executionArn=execution["executionArn"]), default=str)


def test_cleanup_function_and_gpu_step_entry_point(stack, talk: mediagen.TalkVideo) -> None:
    """The scheduled Lambda and the GPU container's CLI entry run the same code as the steps."""
    report = stack.aws.invoke("CleanupFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert set(report) == {"abandoned_jobs", "expired_jobs", "deleted_objects", "freed_slots"}

    from reelforge.cli import main

    key = "artifacts/jobs/gpu-entry/source/talk.mp4"
    Blobs().put_file(key, talk.path, "video/mp4")
    from reelforge import jobs

    jobs.create("someone", "process", job_id="gpu-entry")
    assert main(["step", "clips/transcribe", "--job-id", "gpu-entry", "--video-key", key,
                 "--options", json.dumps({"whisper_model": "tiny.en"})]) == 0
    transcript = json.loads(Blobs().get_bytes("artifacts/jobs/gpu-entry/transcript.json"))
    assert "question" in " ".join(s["text"] for s in transcript["segments"]).lower()
