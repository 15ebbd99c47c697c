"""AutoVio works (seed 001) over real HTTP on the embedded AWS, local providers: register ->
project -> work -> upload a reference -> analyze (the cuts and colours we rendered into it) ->
scenario -> generate every scene (each video lasts its scene and moves as its camera says) ->
reorder the scenes and check each kept its media; ETags, isolation and the key rule."""

from __future__ import annotations

import hashlib
import io
import subprocess
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from fakes.fake_runway import FakeRunway, TaskScript
from PIL import Image
from stored import assert_never_stored

from reelforge.media.analysis import frame_motion
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.settings import get_settings

pytestmark = pytest.mark.e2e

SHOTS = (("d02020", 2.0), ("20a040", 2.0), ("2040d0", 2.0))  # red, green, blue: three hard cuts
GUIDE = {"tone": "bold and warm", "color_palette": ["#e63946", "#1d3557", "#f1faee"], "must_avoid": ["clutter"]}


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _tone(seconds: float) -> bytes:
    """A 440 Hz tone at half scale (RMS 0.35), as WAV."""
    import wave

    t = np.arange(round(48000 * seconds)) / 48000
    pcm = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(pcm)
    return out.getvalue()


def _reference(out: Path) -> Path:
    args: list[str] = []
    for colour, seconds in SHOTS:
        args += ["-f", "lavfi", "-i", f"color=c=0x{colour}:s=320x180:r=25:d={seconds}"]
    labels = "".join(f"[{i}:v]" for i in range(len(SHOTS)))
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, "-filter_complex",
                    f"{labels}concat=n={len(SHOTS)}:v=1:a=0[v]", "-map", "[v]", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)], float)


def _wait(client: httpx.Client, job_id: str, timeout: float = 300) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/job/{job_id}").json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def _frames(data: bytes) -> tuple[float, list[np.ndarray]]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="gray") for f in container.decode(stream)]
        return float(len(frames) / stream.average_rate), frames


@pytest.fixture(scope="module")
def work(stack, tmp_path_factory) -> dict:  # noqa: ANN001
    token = stack.register("works")
    client = stack.client(token)
    made = client.post("/api/projects", json={"name": "Tidewater launch", "projectType": "saas",
                                              "styleGuide": GUIDE, "systemPrompt": "", "imageSystemPrompt": ""})
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    created = client.post(f"/api/projects/{pid}/works", json={
        "name": "Launch ad", "productName": "Tidewater", "productDescription": "a tide-tracking app for sailors",
        "targetAudience": "weekend sailors", "videoDuration": 6, "mode": "style_transfer", "sceneCount": ""})
    assert created.status_code == 201, created.text
    wid = created.json()["id"]
    base = f"/api/projects/{pid}/works/{wid}"
    reference = _reference(tmp_path_factory.mktemp("works") / "reference.mp4")
    uploaded = client.post(f"{base}/media/reference",
                           files={"video": ("ref.mp4", reference.read_bytes(), "application/octet-stream")})
    assert uploaded.status_code == 200, uploaded.text
    analysis = client.post(f"{base}/analyze")
    assert analysis.status_code == 200, analysis.text
    scenario = client.post(f"{base}/scenario")
    assert scenario.status_code == 200, scenario.text
    return {"stack": stack, "client": client, "token": token, "pid": pid, "wid": wid, "base": base,
            "reference": reference, "analysis": analysis.json(), "scenes": scenario.json()["scenes"],
            "created": created}


def test_analysis_measures_the_cuts_and_colours_of_the_reference(work: dict) -> None:
    analysis = work["analysis"]
    assert analysis["scene_count"] == 3 and len(analysis["scenes"]) == 3
    assert [round(s["duration_seconds"]) for s in analysis["scenes"]] == [2, 2, 2]
    for colour, _seconds in SHOTS:
        nearest = min(np.linalg.norm(_rgb(c) - _rgb(colour)) for c in analysis["color_palette"])
        assert nearest < 40, (colour, analysis["color_palette"])
    snapshot = work["client"].get(work["base"]).json()
    assert snapshot["hasReferenceVideo"] is True and snapshot["analysis"]["scene_count"] == 3
    served = work["client"].get(f"{work['base']}/media/reference")
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert served.content == work["reference"].read_bytes()


def test_scenario_keeps_the_reference_rhythm_and_is_saved_with_stable_ids(work: dict) -> None:
    scenes = work["scenes"]
    assert [s["scene_index"] for s in scenes] == [0, 1, 2]
    assert sum(s["duration_seconds"] for s in scenes) == pytest.approx(6, abs=0.05)
    ids = [s["id"] for s in scenes]
    assert len(set(ids)) == 3 and all(ids)
    assert all("clutter" in s["negative_prompt"] for s in scenes)
    stored = work["client"].get(work["base"]).json()
    assert [s["id"] for s in stored["scenes"]] == ids and stored["currentStep"] >= 2
    assert [g["status"] for g in stored["generatedScenes"]] == ["pending"] * 3


@pytest.fixture(scope="module")
def generated(work: dict) -> dict:
    client, base = work["client"], work["base"]
    current = client.get(base)
    snapshot = current.json()
    scenes = snapshot["scenes"]
    scenes[0]["camera_movement"], scenes[1]["camera_movement"], scenes[2]["camera_movement"] = (
        "pan left", "zoom in", "static")
    put = client.put(base, json={**snapshot, "scenes": scenes}, headers={"If-Match": current.headers["etag"]})
    assert put.status_code == 200, put.text
    started = client.post(f"{base}/generate/scenes")
    assert started.status_code == 202, started.text
    body = started.json()
    assert [s["sceneIndex"] for s in body["scenes"]] == [0, 1, 2]
    job = _wait(client, body["jobId"])
    assert job["status"] == "completed", job
    media = {}
    for scene in client.get(base).json()["scenes"]:
        image = client.get(f"{base}/media/scene/{scene['id']}/image")
        video = client.get(f"{base}/media/scene/{scene['id']}/video")
        assert image.status_code == 200 and video.status_code == 200
        media[scene["id"]] = (hashlib.sha256(image.content).hexdigest(), hashlib.sha256(video.content).hexdigest(),
                              image.content, video.content)
    return {"media": media, "job": job, "started": body, "stale_etag": current.headers["etag"]}


def test_every_scene_is_generated_with_its_duration_and_camera_movement(work: dict, generated: dict) -> None:
    snapshot = work["client"].get(work["base"]).json()
    assert [g["status"] for g in snapshot["generatedScenes"]] == ["done"] * 3
    for scene, urls in zip(snapshot["scenes"], generated["started"]["scenes"], strict=True):
        assert urls["videoUrl"].endswith(f"/scene/{scene['id']}/video")
        _image_hash, _video_hash, image, video = generated["media"][scene["id"]]
        assert Image.open(io.BytesIO(image)).size == (1080, 1920)
        seconds, frames = _frames(video)
        assert seconds == pytest.approx(scene["duration_seconds"], abs=0.05)
        moves = [m for a, b in zip(frames[::5], frames[5::5], strict=False) if (m := frame_motion(
            np.ascontiguousarray(a[::4, ::4]), np.ascontiguousarray(b[::4, ::4]))) is not None]
        pan = float(np.median([m[0] for m in moves]))
        zoom = float(np.median([m[2] for m in moves]))
        if scene["camera_movement"] == "pan left":  # the picture slides right
            assert pan > 0.002 and abs(zoom) < abs(pan) * 5, (pan, zoom)
        elif scene["camera_movement"] == "zoom in":
            assert zoom > 0.002, (pan, zoom)
        else:
            assert abs(pan) < 0.001 and abs(zoom) < 0.001, (pan, zoom)


def test_reordering_scenes_keeps_each_scenes_media(work: dict, generated: dict) -> None:
    client, base = work["client"], work["base"]
    current = client.get(base)
    snapshot = current.json()
    reordered = list(reversed(snapshot["scenes"]))
    put = client.put(base, json={**snapshot, "scenes": reordered}, headers={"If-Match": current.headers["etag"]})
    assert put.status_code == 200, put.text
    after = client.get(base).json()
    assert [s["id"] for s in after["scenes"]] == [s["id"] for s in reordered]
    assert [s["scene_index"] for s in after["scenes"]] == [0, 1, 2]
    for index, scene in enumerate(after["scenes"]):
        image = client.get(f"{base}/media/scene/{index}/image")  # by the contract's index, too
        assert hashlib.sha256(image.content).hexdigest() == generated["media"][scene["id"]][0]
        assert after["generatedScenes"][index]["sceneId"] == scene["id"]
    # an old client: the scenes without their ids, reversed back; they are matched by prompts
    again = client.get(base)
    bare = [{k: v for k, v in s.items() if k != "id"} for s in reversed(again.json()["scenes"])]
    put = client.put(base, json={**again.json(), "scenes": bare})
    assert put.status_code == 200, put.text
    final = client.get(base).json()
    for scene in final["scenes"]:
        video = client.get(f"{base}/media/scene/{scene['id']}/video")
        assert hashlib.sha256(video.content).hexdigest() == generated["media"][scene["id"]][1]


def test_the_works_timeline_exports_frame_exactly_and_previews_the_same_frames(work: dict, generated: dict) -> None:
    client, base, pid = work["client"], work["base"], work["pid"]
    logo = io.BytesIO()
    Image.new("RGBA", (200, 100), (255, 102, 0, 255)).save(logo, "PNG")
    asset = client.post(f"/api/projects/{pid}/assets", files={"file": ("logo.png", logo.getvalue())}).json()
    font = client.post(f"/api/projects/{pid}/assets", files={"file": ("brand.ttf", FONT.read_bytes())}).json()
    music = client.post(f"/api/projects/{pid}/assets", files={"file": ("music.wav", _tone(4.0))}).json()
    assert (font["type"], music["type"]) == ("font", "audio")
    current = client.get(base)
    scenes = current.json()["scenes"]
    state = {"editorData": {
        "videoTrack": [{"id": "a", "sceneId": scenes[0]["id"], "start": 0, "end": 2, "transitionType": "wipeleft",
                        "transitionDuration": 0.5},
                       {"id": "b", "sceneIndex": 1, "start": 2, "end": 4}],
        "textTrack": [{"id": "t", "start": 0.5, "end": 3.5}], "imageTrack": [{"id": "i", "start": 1, "end": 4}]},
        "textOverlays": {"t": {"text": "Tidewater", "fontSize": 120, "fontColor": "#ffff00", "centerX": 270,
                               "centerY": 200, "fontAssetId": font["id"]}},
        "imageOverlays": {"i": {"assetId": asset["id"], "width": 300, "height": 150, "centerX": 800, "centerY": 1500,
                                "opacity": 0.5, "rotation": 20}},
        "audioAssetId": music["id"], "audioVolume": 0.5, "exportSettings": {"width": 540, "height": 960, "fps": 25}}
    put = client.put(base, json={**current.json(), "editorState": state}, headers={"If-Match": current.headers["etag"]})
    assert put.status_code == 200, put.text
    started = client.post("/api/export", json={"projectId": pid, "workId": work["wid"]})
    assert started.status_code == 202, started.text
    job_id = started.json()["export_job_id"]
    deadline = time.time() + 300
    while (status := client.get(f"/api/export/{job_id}").json())["status"] not in ("completed", "failed"):
        assert time.time() < deadline, status
        time.sleep(0.3)
    assert status["status"] == "completed", status
    exported = httpx.get(status["export_url"]).content
    seconds, frames = _frames(exported)
    assert len(frames) == 100 and seconds == pytest.approx(4.0)  # 4 s at 25 fps, the wipe overlapping
    with av.open(io.BytesIO(exported)) as container:  # the music, mixed in at half volume
        samples = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    assert 0.08 < float(np.sqrt(np.mean(samples ** 2))) < 0.2  # the tone: RMS 0.35, x 0.5 volume, x 0.71 per channel
    with av.open(io.BytesIO(exported)) as container:  # the yellow title, centred where asked
        rgb = next(f for i, f in enumerate(container.decode(video=0)) if i == 50).to_ndarray(format="rgb24")
    yellow = np.argwhere((rgb[..., 0] > 200) & (rgb[..., 1] > 200) & (rgb[..., 2] < 80))
    assert len(yellow) > 500 and abs(yellow[:, 1].mean() - 270) < 15 and abs(yellow[:, 0].mean() - 200) < 25
    for t in (0.2, 2.2, 3.0):
        preview = client.post("/api/export/preview", json={"projectId": pid, "workId": work["wid"], "t": t})
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
        shown = np.asarray(Image.open(io.BytesIO(preview.content)).convert("L"), float)
        assert np.abs(shown - frames[round(t * 25)]).mean() < 4, t
    unknown = client.post("/api/export", json={"projectId": pid, "workId": work["wid"], "clips": [
        {"sceneIndex": 0, "position": 0, "end": 2, "transition": "spin"}, {"sceneIndex": 1, "position": 2, "end": 4}]})
    assert unknown.status_code == 400 and "unknown transition 'spin'" in unknown.json()["detail"]
    original = client.post("/api/export", json={"projectId": pid, "workId": work["wid"], "clips": [
        {"sceneIndex": 0, "position": 0, "end": 1}], "options": {"width": 320, "height": 568, "fps": 25}})
    assert original.status_code == 202 and original.json()["status"] == "pending"
    assert client.post("/api/export", json={"projectId": pid, "workId": "work_nope"}).status_code == 404


def test_a_stale_if_match_is_412_and_nothing_is_lost(work: dict, generated: dict) -> None:
    client, base = work["client"], work["base"]
    before = client.get(base).json()
    stale = client.put(base, json={**before, "name": "overwritten"}, headers={"If-Match": generated["stale_etag"]})
    assert stale.status_code == 412 and "changed" in stale.json()["detail"]
    assert client.get(base).json()["name"] == before["name"]
    project = client.get(f"/api/projects/{work['pid']}")
    body = {**project.json(), "name": "Renamed"}
    assert client.put(f"/api/projects/{work['pid']}", json=body, headers={"If-Match": '"nope"'}).status_code == 412
    ok = client.put(f"/api/projects/{work['pid']}", json=body, headers={"If-Match": project.headers["etag"]})
    assert ok.status_code == 200 and ok.json()["name"] == "Renamed" and ok.json()["styleGuide"] == GUIDE
    assert ok.headers["etag"] != project.headers["etag"]
    mismatch = client.put(f"/api/projects/{work['pid']}", json={**body, "id": "other"})
    assert mismatch.status_code == 400 and mismatch.json()["detail"] == "ID mismatch"


def test_another_users_project_work_and_media_are_404(work: dict, generated: dict) -> None:
    other = work["stack"].client(work["stack"].register("intruder"))
    base, pid = work["base"], work["pid"]
    scene_id = next(iter(generated["media"]))
    for path in (f"/api/projects/{pid}", base, f"{base}/media/reference", f"{base}/media/scene/{scene_id}/video",
                 f"/api/projects/{pid}/works"):
        assert other.get(path).status_code == 404, path
    assert other.put(base, json={"id": work["wid"]}).status_code == 404
    assert other.post(f"{base}/generate/scenes").status_code == 404
    assert other.delete(f"/api/projects/{pid}").status_code == 404
    assert work["client"].get(f"/api/projects/{pid}").status_code == 200


def test_the_standalone_ai_routes_answer_in_the_originals_shapes(work: dict) -> None:
    client = work["client"]
    with work["reference"].open("rb") as f:
        analysis = client.post("/api/analyze", files={"video": ("r.mp4", f, "video/mp4")},
                               data={"mode": "style_transfer", "analyzerPrompt": ""})
    assert analysis.status_code == 200, analysis.text
    assert analysis.json()["scene_count"] == 3
    notes = client.post("/api/analyze", files={"video": ("r.txt", b"just text, not a video", "video/mp4")})
    assert notes.status_code == 400 and "Unsupported file type" in notes.json()["detail"]
    scenario = client.post("/api/scenario", json={"analysis": analysis.json(), "intent": {
        "mode": "style_transfer", "product_name": "Tidewater", "video_duration": 9}})
    assert scenario.status_code == 200, scenario.text
    assert [s["scene_index"] for s in scenario.json()["scenes"]] == [0, 1, 2]
    image = client.post("/api/generate/image", json={"prompt": "a sailboat at dawn", "negative_prompt": "",
                                                    "resolution": {"width": 640, "height": 360}})
    assert image.status_code == 200, image.text
    picture = httpx.get(image.json()["imageUrl"])
    assert Image.open(io.BytesIO(picture.content)).size == (640, 360)
    queued = client.post("/api/generate/video", headers={"Prefer": "respond-async"}, json={
        "image_url": image.json()["imageUrl"], "prompt": "slow zoom in", "duration": 2,
        "resolution": {"width": 640, "height": 360}})
    assert queued.status_code == 202, queued.text
    assert queued.json()["statusUrl"].startswith("/api/job/")
    job = _wait(client, queued.json()["jobId"])
    assert job["status"] == "completed" and job["jobType"] == "video", job
    seconds, _frames_ = _frames(httpx.get(job["url"]).content)
    assert seconds == pytest.approx(2, abs=0.05)
    guide = client.post("/api/style-guide/extract", json={"text": "Bold and playful. Colours #ff6600 and navy. "
                                                                  "Never show competitors."})
    assert guide.status_code == 200 and "#ff6600" in guide.json()["styleGuide"]["color_palette"]
    assert client.post("/api/style-guide/extract", json={"text": ""}).json()["detail"] == "text is required"


LANDING = b"""<!doctype html><html><head><title>Tidewater</title>
<meta name="description" content="Know the tide before you sail."><meta name="theme-color" content="#0b3d91">
<style>.cta{background:#ff6600;font-family:Inter,sans-serif}</style></head>
<body><h1>Sail with the tide</h1><p>Live tide tables for 4,000 harbours.</p></body></html>"""


def test_a_style_guide_is_read_from_a_landing_page(work: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(LANDING)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        refused = work["client"].post("/api/style-guide/extract-from-landing", json={"url": url})
        assert refused.status_code == 400 and "could not be fetched" in refused.json()["detail"]  # loopback
        monkeypatch.setattr(get_settings(), "ingest_allow_hosts", "127.0.0.1")
        found = work["client"].post("/api/style-guide/extract-from-landing",
                                    json={"url": url, "includeProductInfo": True})
    finally:
        server.shutdown()
    assert found.status_code == 200, found.text
    body = found.json()
    assert {"#0b3d91", "#ff6600"} <= set(body["styleGuide"]["color_palette"])
    assert body["productInfo"]["name"].startswith("Tidewater")


def test_provider_headers_are_checked_and_keys_never_stored(work: dict) -> None:
    client = work["client"]
    unknown = client.post("/api/scenario", headers={"x-llm-provider": "skynet"}, json={"intent": {}})
    assert unknown.status_code == 400 and "gemini" in unknown.json()["detail"]
    model = client.post("/api/scenario", headers={"x-llm-provider": "openai", "x-api-key": "sk-x",
                                                  "x-model-id": "gpt-99"}, json={"intent": {}})
    assert model.status_code == 400 and "gpt-4.1" in model.json()["detail"]
    keyless = client.post("/api/generate/image", headers={"x-image-provider": "dalle"}, json={"prompt": "boat"})
    assert keyless.status_code == 400 and "API key required" in keyless.json()["detail"]
    secret = "sk-works-secret-0123456789abcdef"
    queued = client.post(f"{work['base']}/generate/scene/0", headers={
        "x-image-provider": "dalle", "x-api-key": secret, "Prefer": "respond-async"})
    assert queued.status_code == 202, queued.text
    job = _wait(client, queued.json()["jobId"])
    assert job["status"] == "failed" and secret not in job["error"]  # no OpenAI reachable here
    snapshot = client.get(work["base"]).json()
    assert snapshot["generatedScenes"][0]["status"] == "error"
    assert_never_stored(secret, ("-works",))
    providers = httpx.get(f"{work['stack'].url}/api/providers").json()
    roles = {(p["id"], p["category"]) for p in providers}
    assert {("local", "video"), ("gemini", "video"), ("runway", "video"), ("dalle", "image"),
            ("claude", "llm"), ("openai", "vision")} <= roles
    assert all(p["usable"] for p in providers if p["id"] == "local")


def test_a_runway_video_is_polled_by_the_state_machines_wait_loop(work: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real runwayml SDK against our fake on loopback: the task runs for several polls, each
    one a Wait state and one short step, then the video is fetched and stored."""
    client = work["client"]
    clip = work["reference"].read_bytes()
    with FakeRunway() as fake:
        fake.script_task(TaskScript(pending=1, running=3, video=clip))
        settings = get_settings()
        monkeypatch.setattr(settings, "runway_base_url", fake.base_url)
        monkeypatch.setattr(settings, "works_poll_interval_s", 1)
        monkeypatch.setattr(settings, "ingest_allow_hosts", "127.0.0.1")  # the fake's video URL
        image = client.post("/api/generate/image", json={"prompt": "a harbour", "resolution": {
            "width": 1280, "height": 720}}).json()["imageUrl"]
        queued = client.post("/api/generate/video", json={"image_url": image, "prompt": "pan right", "duration": 5},
                             headers={"x-video-provider": "runway", "x-api-key": fake.api_key,
                                      "Prefer": "respond-async"})
        assert queued.status_code == 202, queued.text
        job = _wait(client, queued.json()["jobId"])
        assert job["status"] == "completed", job
        polls = [r for r in fake.requests if r.method == "GET" and r.path.startswith("/v1/tasks/")]
        created = [r for r in fake.requests if r.path == "/v1/image_to_video"]
    assert len(created) == 1 and len(polls) == 5  # PENDING, RUNNING x3, SUCCEEDED
    assert created[0].body["model"] == "gen4_turbo" and created[0].body["duration"] == 5
    assert httpx.get(job["url"]).content == clip
    assert_never_stored(fake.api_key, ("-works",))


def test_an_autovio_token_follows_its_async_jobs_and_needs_works_read_for_work_media(work: dict) -> None:
    stack, owner = work["stack"], work["client"]
    scopes = ["projects:read", "projects:write", "works:read", "works:write", "ai:analyze", "ai:generate"]
    token = owner.post("/api/tokens", json={"name": "autovio", "scopes": scopes, "expiresInDays": ""})
    assert token.status_code == 201, token.text  # "" is absent, as for every optional field
    client = stack.client(token.json()["token"])
    with work["reference"].open("rb") as f:
        queued = client.post("/api/analyze", files={"video": ("r.mp4", f, "video/mp4")},
                             headers={"Prefer": "respond-async"})
    assert queued.status_code == 202, queued.text
    job = _wait(client, queued.json()["jobId"])  # no jobs:read in AutoVio's scopes
    assert job["status"] == "completed" and job["result"]["scene_count"] == 3
    generator = stack.client(owner.post("/api/tokens", json={"name": "gen", "scopes": ["ai:generate"]}).json()["token"])
    image_path = f"{work['base']}/media/scene/0/image"
    denied = generator.post("/api/generate/video", json={"image_url": image_path, "prompt": "x", "duration": 1})
    assert denied.status_code == 403 and "works:read" in denied.json()["detail"]


def test_broken_uploads_and_bad_scene_refs_are_4xx(work: dict) -> None:
    client, base = work["client"], work["base"]
    truncated = work["reference"].read_bytes()[:3000]
    refused = client.post(f"{base}/media/reference", files={"video": ("r.mp4", truncated, "video/mp4")})
    assert refused.status_code == 400 and "cannot be read" in refused.json()["detail"]
    assert client.get(f"{base}/media/reference").content == work["reference"].read_bytes()  # the old one stays
    assert client.post(f"{base}/generate/scene/-1").status_code == 400
    unknown = client.post(f"{base}/generate/scenes", headers={"x-model-id": "foo"})
    assert unknown.status_code == 400 and "local-card" in unknown.json()["detail"]


def test_deleting_the_project_takes_its_works_and_media(work: dict, generated: dict) -> None:
    client, pid = work["client"], work["pid"]
    assert client.delete(f"/api/projects/{pid}").status_code == 204
    assert client.get(work["base"]).status_code == 404
    from reelforge.blobs import Blobs, project_prefix

    assert list(Blobs().list_keys(project_prefix(pid))) == []
