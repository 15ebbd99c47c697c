"""Narrated videos (seed 003) over real HTTP on the embedded AWS, local provider: generate ->
live SSE -> video; documents; stop, edit, render; one slide re-rendered; the video's Range
semantics on the real route; isolation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from speech import word_error_rate

from reelforge.media.compose import LEAD_S, TAIL_S
from reelforge.media.transcribe import transcribe

pytestmark = pytest.mark.e2e

SOURCE = """# Why short video works
Short video holds attention because every second has to earn its place. Viewers decide within two
seconds whether to keep watching. A strong hook at the start is the most important edit.

# Captions matter
Most people watch with the sound off. Captions make the message readable in silence. Big words with
strong contrast work best on a phone.

# Framing for phones
A vertical frame fills the phone screen. The subject should stay in the middle as they move.
Cropping a wide video blindly cuts people out of the picture.
"""
STAGES = ["started", "generating_content", "generating_scripts", "generating_audio", "combining_audio",
          "generating_media", "composing_video", "completed"]


def _frames(client: httpx.Client, ident: str) -> list[tuple[float, str, dict]]:
    """(seconds since the stream opened, raw lines, payload) of every SSE event."""
    out, t0, lines = [], time.monotonic(), []
    with client.stream("GET", f"/api/progress/{ident}", timeout=300) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data:"):
                payload = json.loads(line[5:])
                out.append((time.monotonic() - t0, "\n".join([*lines, line]), payload))
                lines = []
            elif line:
                lines.append(line)
    return out


def _wait(client: httpx.Client, ident: str, until: tuple[str, ...] = ("completed", "error"),
          timeout: float = 240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.get(f"/api/status/{ident}").json()
        if body["status"] in until:
            return body
        time.sleep(0.3)
    raise AssertionError(f"{ident} did not reach {until}: {body}")


def _decode(path: Path) -> tuple[np.ndarray, int, list[tuple[float, np.ndarray]], float]:
    """(mono audio, rate, [(t, small grey frame)], duration) of a video file."""
    with av.open(str(path)) as container:
        duration = float(container.duration / av.time_base)
        audio = container.streams.audio[0]
        rate = audio.rate
        samples = [f.to_ndarray().mean(axis=0) for f in container.decode(audio)]
    frames = []
    with av.open(str(path)) as container:
        for f in container.decode(container.streams.video[0]):
            frames.append((float(f.time), np.asarray(f.to_image().convert("L").resize((192, 108)), dtype=np.float32)))
    return np.concatenate(samples), rate, frames, duration


def _frame_at(frames: list[tuple[float, np.ndarray]], t: float) -> np.ndarray:
    return min(frames, key=lambda f: abs(f[0] - t))[1]


def _rms(audio: np.ndarray, rate: int, t0: float, t1: float) -> float:
    part = audio[int(t0 * rate):int(t1 * rate)]
    return float(np.sqrt((part ** 2).mean())) if len(part) else 0.0


@pytest.fixture(scope="module")
def user(stack) -> httpx.Client:  # noqa: ANN001 - the session's Stack
    return stack.client(stack.register("narrator"))


@pytest.fixture(scope="module")
def generated(stack, user: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: ANN001
    """One 3-slide video from SOURCE: the submit answer, its SSE frames, status, file."""
    resp = user.post("/api/generate", json={"topic": "Short video: what works?", "num_slides": 3,
                                              "source_text": SOURCE, "tone": "formal", "language": "english",
                                              "voice": "", "stop_after": ""})
    assert resp.status_code == 202, resp.text
    submitted = resp.json()
    frames = _frames(user, submitted["generation_id"])
    status = user.get(f"/api/status/{submitted['generation_id']}").json()
    video = tmp_path_factory.mktemp("narrated") / "video.mp4"
    # The signed link plays without an Authorization header (a <video> element sends none).
    played = httpx.get(stack.url + status["video_url"], timeout=60)
    assert played.status_code == 200, played.text
    video.write_bytes(played.content)
    return {"submitted": submitted, "frames": frames, "status": status, "video": video}


def test_generate_answers_at_once_and_streams_frames_while_it_runs(generated: dict) -> None:
    submitted, frames = generated["submitted"], generated["frames"]
    assert submitted["status"] == "queued" and submitted["generation_id"] and submitted["message"]
    first_t, _, first = frames[0]
    assert first["status"] == "connected" and first["message"] == "📡 Connected to progress stream"
    assert first_t < 2.0
    statuses = [p["status"] for _, _, p in frames]
    for stage in STAGES:
        assert stage in statuses, (stage, statuses)
    assert statuses[-1] == "done" and frames[-1][2]["message"] == "✅ Stream ended"
    assert any(s in statuses for s in ("generating_slide", "fetching_image", "generating_animation"))
    # Frames arrive as the job runs, not in one piece at the end: the stages are spread out.
    at = {p["status"]: t for t, _, p in reversed(frames)}
    assert at["completed"] - at["generating_audio"] > 1.0, at
    assert at["composing_video"] - at["generating_content"] > 1.0, at
    # The seed's shape: {status, progress:int, message, timestamp "HH:MM:SS"}, progress at its values.
    for _, raw, p in frames:
        assert isinstance(p["progress"], int) and isinstance(p["message"], str)
        assert len(p["timestamp"]) == 8 and p["timestamp"][2] == ":", p
        assert "\\u" in raw or p["message"].isascii()  # ASCII-escaped JSON, as the seed sends
    progress = {p["status"]: p["progress"] for _, _, p in frames if p["status"] in STAGES}
    assert progress["generating_content"] == 10 and progress["generating_scripts"] == 20
    assert progress["combining_audio"] in (48, 49) and progress["composing_video"] in (85, 95)
    events = [(raw, p) for _, raw, p in frames if "id:" in raw]
    assert events, "job events carry id: lines for Last-Event-ID"
    ramp = [p["progress"] for _, _, p in frames if p["status"] not in ("connected", "done", "completed")]
    assert ramp == sorted(ramp)


def test_a_reconnecting_stream_resumes_after_its_last_event_id(generated: dict, user: httpx.Client) -> None:
    gid = generated["submitted"]["generation_id"]
    ids = [int(line.split(":", 1)[1]) for _, raw, _ in generated["frames"] for line in raw.split("\n")
           if line.startswith("id:")]
    middle = ids[len(ids) // 2]
    again = []
    with user.stream("GET", f"/api/progress/{gid}", headers={"Last-Event-ID": str(middle)}, timeout=60) as resp:
        for line in resp.iter_lines():
            if line.startswith("id:"):
                again.append(int(line[3:]))
    assert again == [i for i in ids if i > middle]


def test_the_video_matches_its_script_and_says_its_narration(generated: dict, user: httpx.Client) -> None:
    gid = generated["submitted"]["generation_id"]
    script = user.get(f"/api/script/{gid}").json()
    content = user.get(f"/api/content/{gid}").json()
    assert set(content) == {"topic", "total_slides", "slides"} and content["total_slides"] == 3
    assert set(content["slides"][0]) == {"slide_number", "title", "content_text", "needs_image", "image_keyword",
                                         "needs_animation", "animation_description", "duration"}
    assert set(script) == {"topic", "total_duration", "language", "slide_scripts"}
    lines = script["slide_scripts"]
    assert [s["slide_number"] for s in lines] == [1, 2, 3]
    audio, rate, _, duration = _decode(generated["video"])
    assert abs(duration - script["total_duration"]) <= 0.5
    assert lines[0]["start_time"] == 0 and abs(lines[-1]["end_time"] - script["total_duration"]) < 0.01
    for line in lines:  # each slide's narration is heard inside its own window
        speaking = _rms(audio, rate, line["start_time"] + LEAD_S, line["end_time"] - TAIL_S)
        assert speaking > 0.02, (line, speaking)
    text = " ".join(s["narration_text"] for s in lines)
    heard = transcribe(generated["video"], model="base", language="en")
    assert word_error_rate(text, heard.text) <= 0.10, heard.text
    status = generated["status"]
    assert status["status"] == "completed" and status["progress"] == 100
    assert status["video_filename"].endswith("_final.mp4") and "local provider" in status["notes"]


def test_one_slide_changed_re_renders_only_that_slide(generated: dict, user: httpx.Client, stack,  # noqa: ANN001
                                                      tmp_path: Path) -> None:
    gid = generated["submitted"]["generation_id"]
    before_script = user.get(f"/api/script/{gid}").json()["slide_scripts"]
    resp = user.post(f"/api/generate/{gid}/slides/2", json={
        "title": "Captions carry the message", "narration_text": "Captions let people follow along with the sound off."})
    assert resp.status_code == 202, resp.text
    status = _wait(user, gid)
    assert status["status"] == "completed", status
    assert status["reused_slides"] == 2 and status["rendered_slides"] == 1
    after_script = user.get(f"/api/script/{gid}").json()["slide_scripts"]
    assert after_script[1]["narration_text"].startswith("Captions let people follow")
    video = tmp_path / "after.mp4"
    video.write_bytes(httpx.get(stack.url + status["video_url"], timeout=60).content)
    a_audio, rate, a_frames, _ = _decode(generated["video"])
    b_audio, _, b_frames, _ = _decode(video)
    # Slide 1 is where it was: same picture, same narration.
    mid1 = (before_script[0]["start_time"] + before_script[0]["end_time"]) / 2
    assert np.abs(_frame_at(a_frames, mid1) - _frame_at(b_frames, mid1)).mean() < 2.0
    s1 = (before_script[0]["start_time"] + LEAD_S, before_script[0]["end_time"] - TAIL_S)
    assert abs(_rms(a_audio, rate, *s1) - _rms(b_audio, rate, *s1)) < 0.1 * _rms(a_audio, rate, *s1)
    # Slide 2 changed: its picture and its narration.
    mid2a = (before_script[1]["start_time"] + before_script[1]["end_time"]) / 2
    mid2b = (after_script[1]["start_time"] + after_script[1]["end_time"]) / 2
    assert np.abs(_frame_at(a_frames, mid2a) - _frame_at(b_frames, mid2b)).mean() > 3.0
    assert abs((before_script[1]["end_time"] - before_script[1]["start_time"])
               - (after_script[1]["end_time"] - after_script[1]["start_time"])) > 0.5
    # Slide 3 moved with the new length of slide 2, and looks the same.
    mid3a = (before_script[2]["start_time"] + before_script[2]["end_time"]) / 2
    mid3b = (after_script[2]["start_time"] + after_script[2]["end_time"]) / 2
    assert np.abs(_frame_at(a_frames, mid3a) - _frame_at(b_frames, mid3b)).mean() < 4.0


def test_stop_after_script_then_edit_and_render(user: httpx.Client) -> None:
    resp = user.post("/api/generate", json={"topic": "Three habits of focused teams", "num_slides": 2,
                                              "tone": "casual", "stop_after": "script", "aspect": "9:16"})
    assert resp.status_code == 202, resp.text
    gid = resp.json()["generation_id"]
    stopped = _wait(user, gid, until=("script_ready", "error", "completed"))
    assert stopped["status"] == "script_ready", stopped
    assert "video_url" not in stopped
    script = user.get(f"/api/script/{gid}").json()
    script["slide_scripts"][0]["narration_text"] = "Focused teams protect their mornings."
    assert user.put(f"/api/script/{gid}", json={"slide_scripts": script["slide_scripts"]}).status_code == 200
    content = user.get(f"/api/content/{gid}").json()
    content["slides"][0]["title"] = "Protect the morning"
    assert user.put(f"/api/content/{gid}", json={"slides": content["slides"]}).status_code == 200
    assert user.post(f"/api/generate/{gid}/render").status_code == 202
    done = _wait(user, gid)
    assert done["status"] == "completed", done
    script = user.get(f"/api/script/{gid}").json()
    assert script["slide_scripts"][0]["narration_text"] == "Focused teams protect their mornings."
    assert script["slide_scripts"][0]["end_time"] > 1.0
    assert user.get(f"/api/content/{gid}").json()["slides"][0]["title"] == "Protect the morning"
    # the topic slug the original front end computes names the same generation
    assert user.get("/api/status/Three_habits_of_focused_teams").json()["generation_id"] == gid


RANGE_CASES = [  # (Range header, status, Content-Range template with {last} and {size}, body slice)
    (None, 200, None, slice(None)),
    ("bytes=0-99", 206, "bytes 0-99/{size}", slice(0, 100)),
    ("bytes=100-", 206, "bytes 100-{last}/{size}", slice(100, None)),
    ("bytes=-100", 206, "bytes {tail100}-{last}/{size}", slice(-100, None)),
    ("bytes=50-99999999999", 206, "bytes 50-{last}/{size}", slice(50, None)),
    ("bytes=99999999-", 416, "bytes */{size}", None),
    ("bytes=9-2", 200, None, slice(None)),
    ("pages=0-5", 200, None, slice(None)),
]


@pytest.mark.parametrize(("header", "code", "content_range", "part"), RANGE_CASES)
def test_video_range_requests(generated: dict, stack, header, code, content_range, part) -> None:  # noqa: ANN001
    url = stack.url + generated["status"]["video_url"]
    whole = httpx.get(url, timeout=60).content  # the current video (a test above re-rendered it)
    size = len(whole)
    resp = httpx.get(url, headers={"Range": header} if header else {}, timeout=60)
    assert resp.status_code == code
    assert resp.headers["accept-ranges"] == "bytes"
    assert "content-range" in resp.headers["access-control-expose-headers"]
    if content_range:
        assert resp.headers["content-range"] == content_range.format(last=size - 1, size=size, tail100=size - 100)
    if part is not None:
        assert resp.content == whole[part]
        assert int(resp.headers["content-length"]) == len(whole[part])


def test_video_head_multi_range_and_if_range(generated: dict, stack) -> None:  # noqa: ANN001
    url = stack.url + generated["status"]["video_url"]
    whole = httpx.get(url, timeout=60).content
    head = httpx.head(url, timeout=60)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == len(whole)
    etag = head.headers["etag"]
    assert httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    stale = httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-this-one"'})
    assert stale.status_code == 200 and stale.content == whole
    multi = httpx.get(url, headers={"Range": "bytes=0-9,100-109"})
    assert multi.status_code == 206 and multi.headers["content-type"].startswith("multipart/byteranges")
    assert whole[0:10] in multi.content and whole[100:110] in multi.content


def test_videos_are_private_and_names_are_not_paths(generated: dict, stack, user: httpx.Client) -> None:  # noqa: ANN001
    name = generated["status"]["video_filename"]
    other = stack.client(stack.register("someone-else"))
    assert other.get(f"/api/video/{name}").status_code == 404
    assert other.get(f"/api/status/{generated['submitted']['generation_id']}").status_code == 404
    assert other.get(f"/api/script/{generated['submitted']['generation_id']}").status_code == 404
    assert user.get(f"/api/video/{name}").status_code == 200  # the owner, by bearer token
    assert httpx.get(f"{stack.url}/api/video/{name}").status_code == 401
    signed = generated["status"]["video_url"]
    forged = signed.replace("sig=", "sig=0")
    assert httpx.get(stack.url + forged).status_code == 404
    for bad in ("..%2F..%2Fetc%2Fpasswd", "..%2Fscript.json", f"{name}%00.txt", "x_final.mp4",
                name.replace("_final", "_final/../content.json")):
        resp = user.get(f"/api/video/{bad}")
        assert resp.status_code == 404, (bad, resp.status_code)
        assert "detail" in resp.json()


@pytest.mark.parametrize(("body", "field"), [
    ({}, "topic"),
    ({"topic": ""}, "topic"),
    ({"topic": "x" * 501}, "topic"),
    ({"topic": "ok", "num_slides": 0}, "num_slides"),
    ({"topic": "ok", "num_slides": 21}, "num_slides"),
    ({"topic": "ok", "language": "klingon"}, "language"),
    ({"topic": "ok", "tone": "sarcastic"}, "tone"),
    ({"topic": "ok", "aspect": "4:3"}, "aspect"),
    ({"topic": "ok", "voice": "espeak-hi"}, "speaks"),
    ({"topic": "ok", "voice": "nobody"}, "voice"),
    ({"topic": "ok", "source_text": "x" * 50_001}, "source_text"),
    ({"topic": "ok", "target_duration_s": 5}, "target_duration_s"),
    ({"topic": "ok", "stop_after": "content"}, "stop_after"),
])
def test_bad_bodies_are_refused_with_a_detail(user: httpx.Client, body: dict, field: str) -> None:
    resp = user.post("/api/generate", json=body)
    assert resp.status_code == 422, resp.text
    assert field in resp.json()["detail"]


def test_voices_and_health(stack, user: httpx.Client) -> None:  # noqa: ANN001
    voices = user.get("/api/voices").json()["languages"]
    assert voices["english"][0] == {"id": "piper-en_US-joe", "name": "Joe (US English, Piper, CC0)", "provider": "piper"}
    assert {"hindi", "tamil", "punjabi"} <= set(voices)
    assert httpx.get(f"{stack.url}/health").json()["status"] == "healthy"


def _gemini_handler(image_png: bytes):  # noqa: ANN202 - the fake's Handler
    """Answers as Gemini would, by what each request asks for: slides, narration, speech, image."""
    from fakes.fake_gemini import FakeResponse, generate_content_body, inline_data_body

    def answer(request) -> FakeResponse:  # noqa: ANN001 - RecordedRequest
        config = json.dumps(request.generation_config)
        if "AUDIO" in config:
            t = np.arange(24_000 * 2) / 24_000
            pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
            return FakeResponse(body=inline_data_body(pcm, "audio/L16;codec=pcm;rate=24000"))
        if "IMAGE" in config:
            return FakeResponse(body=inline_data_body(image_png, "image/png", model=request.model or ""))
        if "slide_scripts" in config:
            return FakeResponse(body=generate_content_body(json.dumps({"slide_scripts": [
                {"slide_number": 1, "narration_text": "Gemini wrote this first narration."},
                {"slide_number": 2, "narration_text": "Gemini wrote this second narration."}]})))
        if "REFUSE" in request.prompt_text:
            return FakeResponse(body={"promptFeedback": {"blockReason": "SAFETY"}, "candidates": []})
        return FakeResponse(body=generate_content_body(json.dumps({"slides": [
            {"title": "Tides from Gemini", "content_text": "- The moon pulls the sea", "needs_image": True,
             "image_keyword": "ocean tide", "needs_animation": False, "animation_description": "", "duration": 5},
            {"title": "Two a day", "content_text": "- High and low", "needs_image": False, "image_keyword": "",
             "needs_animation": False, "animation_description": "", "duration": 5}]})))

    return answer


def test_gemini_writes_speaks_and_draws_and_its_key_is_never_stored(stack, monkeypatch) -> None:  # noqa: ANN001
    import io

    from fakes.fake_gemini import FakeGemini
    from PIL import Image
    from stored import assert_never_stored

    from reelforge.settings import get_settings

    key = "AIzaE2E-narrate-secret-key-77"
    png = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 40, 40)).save(png, format="PNG")
    with FakeGemini(api_key=key, handler=_gemini_handler(png.getvalue())) as fake:
        monkeypatch.setenv("GEMINI_BASE_URL", fake.base_url)
        get_settings.cache_clear()
        client = stack.client(stack.register("gemini-narrator"))
        client.headers["X-Gemini-Key"] = key
        gid = client.post("/api/generate", json={"topic": "Why tides happen", "num_slides": 2}).json()["generation_id"]
        done = _wait(client, gid)
        assert done["status"] == "completed", done
        content = client.get(f"/api/content/{gid}").json()
        assert [s["title"] for s in content["slides"]] == ["Tides from Gemini", "Two a day"]
        script = client.get(f"/api/script/{gid}").json()
        assert script["slide_scripts"][0]["narration_text"] == "Gemini wrote this first narration."
        # Gemini TTS's 2 s of audio per slide decide the timeline
        lines = script["slide_scripts"]
        assert lines[0]["end_time"] - lines[0]["start_time"] == pytest.approx(2.0 + LEAD_S + TAIL_S, abs=0.05)
        kinds = {json.dumps(r.generation_config) for r in fake.requests}
        assert any("AUDIO" in k for k in kinds) and any("IMAGE" in k for k in kinds)
        assert {r.api_key for r in fake.requests} == {key}

        refused = client.post("/api/generate", json={"topic": "REFUSE this one", "num_slides": 2}).json()
        failed = _wait(client, refused["generation_id"])
        assert failed["status"] == "error" and "declined" in failed["message"], failed
        assert failed["message"].startswith("❌ Error: ")
    monkeypatch.delenv("GEMINI_BASE_URL")
    get_settings.cache_clear()

    assert_never_stored(key, ("-generate",))
