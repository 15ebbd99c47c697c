"""Tenant isolation, generated from the live OpenAPI document: user A owns one of every kind of
resource; user B calls EVERY operation of the API on A's resources and gets 404, never sees
A's ids or names, and writes nothing (the DynamoDB tables, the S3 buckets and the Step
Functions executions are compared before and after B's walk). B signs in with a session, which
holds every scope: a 403 would be a scope check standing in for the ownership check, and fails.

The walk knows how to fill each path parameter (PARAMS), a valid body for each operation that
takes one (BODIES, else one generated from the schema) and why each operation without a path
parameter is or is not a target (NO_PATH_PARAMS). An operation it does not know fails the
test with what to add, so a new route cannot go unchecked."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import subprocess
import threading
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from studio_client import SocketLog

from reelforge import aws
from reelforge.media.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.e2e

# Every name A gives its resources carries this tag, so a leak of any of them is one search.
TAG = f"alpha{uuid.uuid4().hex[:10]}"
METHODS = ("get", "put", "post", "delete", "patch", "head")

# --- what the walk knows ------------------------------------------------------------------------

# (path prefix, path parameter) -> the name of A's values for it (World.ids). The longest prefix
# that matches wins. A parameter missing here fails the test: add a way to create that resource
# for A in `world` below, and a line here.
PARAMS: dict[tuple[str, str], str] = {
    ("/api/tokens/", "token_id"): "token",
    ("/api/job/", "job_id"): "job",
    ("/api/status/", "job_id"): "job_or_alias",
    ("/api/progress/", "job_id"): "job_or_alias",
    ("/api/v1/jobs/", "job_id"): "studio_job",
    ("/api/project/", "project_id"): "editor_project",
    ("/api/segment/", "segment_id"): "segment",
    ("/api/variant/", "variant_id"): "variant",
    ("/api/export/", "export_job_id"): "export_job",
    ("/api/generate/", "generation_id"): "generation",
    ("/api/generate/", "number"): "slide_number",
    ("/api/content/", "generation_id"): "generation",
    ("/api/script/", "generation_id"): "generation",
    ("/api/video/", "filename"): "video_filename",
    ("/api/v1/", "project_id"): "studio_project",
    ("/api/v1/", "character_id"): "character",
    ("/api/v1/characters/", "index"): "character_image",
    ("/api/v1/", "outline_id"): "outline",
    ("/api/v1/", "section_id"): "section",
    ("/api/v1/", "sentence_id"): "sentence",
    ("/api/projects/", "project_id"): "works_project",
    ("/api/projects/", "work_id"): "work",
    ("/api/projects/", "scene_ref"): "scene_ref",
    ("/api/projects/", "kind"): "scene_kind",
    ("/api/projects/", "asset_id"): "asset",
    ("/api/projects/", "template_id"): "template",
}

# Routes kept out of the OpenAPI document that still take an owned resource (aliases).
HIDDEN: tuple[tuple[str, str], ...] = (
    ("GET", "/api/v1/export/{project_id}"),
    ("POST", "/api/v1/export/{project_id}"),
)

# Operations without a path parameter. "listing": lists the caller's own things (B's listing
# must not show A's); "body": names A's resource in its body (an isolation target, see BODIES);
# anything else is skipped, for the reason given. An operation missing here fails the test.
LISTING, BODY = "listing", "body"
NO_PATH_PARAMS: dict[tuple[str, str], str] = {
    ("GET", "/api/project"): LISTING,
    ("GET", "/api/projects"): LISTING,
    ("GET", "/api/v1/projects"): LISTING,
    ("GET", "/api/v1/characters"): LISTING,
    ("GET", "/api/v1/jobs"): LISTING,
    ("GET", "/api/tokens"): LISTING,
    ("GET", "/api/ai/timeline"): LISTING,
    ("GET", "/api/me"): LISTING,  # B's own profile: nothing of A's in it
    ("GET", "/api/auth/me"): LISTING,
    ("POST", "/api/ai/generate"): BODY,  # project_id
    ("POST", "/api/export"): BODY,  # project_id (editor) or projectId + workId (AutoVio)
    ("POST", "/api/export/preview"): BODY,  # projectId + workId
    ("POST", "/api/v1/sections"): BODY,  # projectId
    ("POST", "/api/v1/sections/reorder"): BODY,  # projectId + sectionIds
    ("POST", "/api/v1/sentences"): BODY,  # sectionId
    ("POST", "/api/v1/sentences/reorder"): BODY,  # sectionId + sentenceIds
    ("POST", "/api/generate/video"): BODY,  # image_url: A's scene image, or a URL presigned for A
    ("GET", "/health"): "public liveness: no one's data",
    ("GET", "/api/health"): "public liveness: no one's data",
    ("GET", "/api/v1/health"): "public liveness: no one's data",
    ("GET", "/api/ai/health"): "provider reachability: no one's data",
    ("GET", "/api/providers"): "the public provider catalogue",
    ("GET", "/api/voices"): "the voice catalogue",
    ("GET", "/api/v1/models"): "the model catalogue",
    ("GET", "/api/v1/styles"): "the style catalogue",
    ("GET", "/api/v1/voices"): "the voice catalogue",
    ("POST", "/api/auth/register"): "creates a new account",
    ("POST", "/api/auth/login"): "B's own credentials",
    ("POST", "/api/auth/refresh"): "B's own refresh token",
    ("POST", "/api/tokens"): "creates a token of B's",
    ("POST", "/api/project"): "creates a project of B's",
    ("POST", "/api/projects"): "creates a project of B's",
    ("POST", "/api/v1/projects"): "creates a project of B's",
    ("POST", "/api/v1/characters"): "creates a character of B's",
    ("POST", "/api/process"): "starts a clips job of B's from B's URL or file",
    ("POST", "/api/process/upload-url"): "starts a clips job of B's, for B's upload",
    ("POST", "/api/generate"): "starts a generation of B's from B's topic",
    ("POST", "/api/analyze"): "analyses the video B uploads in the request",
    ("POST", "/api/scenario"): "stateless: the body is the whole input",
    ("POST", "/api/generate/image"): "stateless: a prompt",
    ("POST", "/api/style-guide/extract"): "stateless: a text",
    ("POST", "/api/style-guide/extract-from-landing"): "stateless: a public URL",
}

# GET targets that A itself cannot read with the values above (so B's 404 there proves less).
A_CONTROL_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/projects/{project_id}/export"): "A has not exported its studio project (a full render)",
    ("GET", "/api/v1/export/{project_id}"): "A has not exported its studio project (a full render)",
}

# Streams: B's status is read, nothing more.
STREAMING = {"/api/progress/{job_id}", "/api/v1/projects/{project_id}/generation-status"}


@dataclass
class World:
    stack: Any
    a: httpx.Client
    a_token: str
    b_tokens: list[str]  # B first; the others only stand in when B hits the job-rate limit
    b_users: list[str]
    ids: dict[str, list[Any]]  # A's values, first one the main one
    secrets: set[str]  # A's ids and names: none may appear in an answer to B
    b_own: dict[str, str]  # B's own resources, for the mixed checks
    media: dict[str, bytes]
    timings: dict[str, float] = field(default_factory=dict)


# --- media -------------------------------------------------------------------------------------

def _video(path: Path) -> bytes:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=2",
                    "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000:duration=2",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
                    "-c:a", "aac", "-shortest", str(path)], check=True)
    return path.read_bytes()


def _png(colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), colour, np.uint8)).save(out, "PNG")
    return out.getvalue()


def _wav(seconds: float = 1.0) -> bytes:
    t = np.arange(round(16000 * seconds)) / 16000
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes())
    return out.getvalue()


# --- A's resources ------------------------------------------------------------------------------

def _ok(resp: httpx.Response, *statuses: int) -> Any:
    assert resp.status_code in (statuses or (200, 201, 202)), f"{resp.request.method} {resp.request.url}: {resp.text}"
    body = resp.json()
    return body["data"] if isinstance(body, dict) and body.get("success") is True else body


def _wait_job(client: httpx.Client, job_id: str, timeout: float = 240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/job/{job_id}").json()
        if job["status"] in ("completed", "failed"):
            assert job["status"] == "completed", job
            return job
        time.sleep(0.25)
    raise AssertionError(f"A's job {job_id} did not finish: {job}")


def _presigned_urls(value: Any) -> Iterator[str]:
    """Every presigned S3 URL in an answer (the ones with a signature in the query)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _presigned_urls(v)
    elif isinstance(value, list):
        for v in value:
            yield from _presigned_urls(v)
    elif isinstance(value, str) and value.startswith("http") and "Signature=" in value:
        yield value


@pytest.fixture(scope="module")
def world(stack, tmp_path_factory: pytest.TempPathFactory) -> World:  # noqa: ANN001
    t0 = time.monotonic()
    timings: dict[str, float] = {}

    def mark(what: str) -> None:
        timings[what] = round(time.monotonic() - t0, 1)

    media = {"video": _video(tmp_path_factory.mktemp("isolation") / "a.mp4"), "png": _png(), "wav": _wav()}
    a_token = stack.register(TAG)
    b_tokens = [stack.register(f"bravo{n}") for n in range(3)]
    names: set[str] = set()

    def name(what: str) -> str:
        names.add(f"{TAG} {what}")
        return f"{TAG} {what}"

    def narrated(a: httpx.Client) -> dict[str, list[Any]]:
        topic = name("narrated")
        gen = _ok(a.post("/api/generate", json={"topic": topic, "num_slides": 1, "stop_after": "script"}), 202)
        _wait_job(a, gen["job_id"])
        # A finished video, as a render leaves it on the generation (narrate/steps.py: the key and
        # video_ready): /api/video must have a video A can play for B's 404 to mean anything,
        # and a real render would double this setup. A's own GET of it is checked below.
        from reelforge.blobs import Blobs, job_prefix
        from reelforge.narrate.service import topic_slugs
        from reelforge.store import Keys, Table

        key = f"{job_prefix(gen['job_id'])}final.mp4"
        Blobs().put_bytes(key, media["video"], "video/mp4")
        Table().update(Keys.generation(gen["generation_id"]), {"video_key": key, "video_ready": True, "duration": 2.0})
        mark("narrated")
        return {"generation": [gen["generation_id"], *sorted(topic_slugs(topic))], "slide_number": [1],
                "video_filename": [gen["video_filename"]], "job": [gen["job_id"]]}

    def editor(a: httpx.Client) -> dict[str, list[Any]]:
        pid = _ok(a.post("/api/project", json={"name": name("editor")}), 201)["id"]
        up = _ok(a.post(f"/api/project/{pid}/upload", json={"file_name": "alpha.mp4", "content_type": "video/mp4"}))
        httpx.put(up["upload_url"], content=media["video"], headers={"Content-Type": "video/mp4"}).raise_for_status()
        deadline = time.time() + 60
        while not (segments := a.get(f"/api/project/{pid}").json()["segments"]) and time.time() < deadline:
            time.sleep(0.2)
        assert segments, "A's editor upload made no timeline"
        edit = _ok(a.post("/api/ai/generate", json={"project_id": pid, "prompt": "blur the corner",
                                                    "start_ts": 0.2, "end_ts": 1.0, "variants": 1,
                                                    "bounding_box": {"x": 0, "y": 0, "width": 32, "height": 32}}))
        export = _ok(a.post("/api/export", json={"project_id": pid}))
        edit_job = _wait_job(a, edit["job_id"])
        _wait_job(a, export["export_job_id"])
        mark("editor")
        return {"editor_project": [pid], "segment": [segments[0]["id"]], "variant": [edit_job["variants"][0]["id"]],
                "export_job": [export["export_job_id"]], "job": [export["export_job_id"], edit["job_id"]],
                "presigned": list(_presigned_urls(edit_job))}

    def studio(a: httpx.Client) -> dict[str, list[Any]]:
        pid = _ok(a.post("/api/v1/projects", json={"name": name("studio"), "topic": name("studio topic")}), 201)["id"]
        short = _ok(a.post(f"/api/v1/projects/{pid}/generate-script-short",
                           json={"topic": name("short script"), "targetDuration": 1}), 202)
        character = _ok(a.post("/api/v1/characters", json={"name": name("character")}), 201)
        pictured = _ok(a.post(f"/api/v1/characters/{character['id']}/images",
                              files={"image": ("c.png", media["png"], "image/png")}), 201)
        _ok(a.post(f"/api/v1/projects/{pid}/cast", json={"characterId": character["id"]}), 201)
        outline = _ok(a.post(f"/api/v1/projects/{pid}/generate-outline",
                             json={"topic": name("outline"), "targetDurationMinutes": 2}), 201)
        _wait_job(a, short["jobId"])
        sections = _ok(a.get(f"/api/v1/projects/{pid}"))["sections"]
        section = _ok(a.get(f"/api/v1/sections/{sections[0]['id']}"))
        mark("studio")
        return {"studio_project": [pid], "studio_job": [short["jobId"]], "job": [short["jobId"]],
                "character": [character["id"]], "character_image": [len(pictured["referenceImages"]) - 1],
                "outline": [outline["outlineId"]], "section": [section["id"]],
                "sentence": [section["sentences"][0]["id"]], "sentence_ids": [s["id"] for s in section["sentences"]],
                "section_ids": [s["id"] for s in sections],
                "presigned": list(_presigned_urls(pictured))}

    def works(a: httpx.Client) -> dict[str, list[Any]]:
        # A project, a work with a reference, scenes (written, not generated), a scene image,
        # audio, an asset and a template.
        pid = _ok(a.post("/api/projects", json={"name": name("works")}), 201)["id"]
        work = a.post(f"/api/projects/{pid}/works", json={"name": name("work"), "productName": name("product")})
        wid = _ok(work, 201)["id"]
        base = f"/api/projects/{pid}/works/{wid}"
        _ok(a.post(f"{base}/media/reference", files={"video": ("ref.mp4", media["video"], "video/mp4")}))
        _ok(a.put(base, json={**work.json(), "scenes": [{"image_prompt": name("scene"), "duration_seconds": 2}]}))
        scenes = _ok(a.get(base))["scenes"]
        _ok(a.post(f"{base}/media/scene/0/image", files={"file": ("s.png", media["png"], "image/png")}))
        _ok(a.post(f"{base}/media/audio", files={"audio": ("a.wav", media["wav"], "audio/wav")}))
        asset = _ok(a.post(f"/api/projects/{pid}/assets", files={"file": ("logo.png", media["png"], "image/png")},
                           data={"name": name("asset")}), 201)
        template = _ok(a.post(f"/api/projects/{pid}/templates", json={"name": name("template"), "content": {}}), 201)
        mark("works")
        return {"works_project": [pid], "work": [wid], "scene_ref": [scenes[0]["id"], "0"], "scene_kind": ["image"],
                "asset": [asset["id"]], "template": [template["id"]], "scene_ids": [s["id"] for s in scenes]}

    def others(a: httpx.Client) -> dict[str, list[Any]]:
        # A clips job that waits for its upload (never made: the job id is what the job routes need).
        clips = _ok(a.post("/api/process/upload-url", json={"file_name": "alpha.mp4", "content_type": "video/mp4"}))
        token = _ok(a.post("/api/tokens", json={"name": name("token"), "scopes": ["jobs:read"]}), 201)
        return {"job": [clips["job_id"]], "token": [token["meta"]["id"]]}

    ids: dict[str, list[Any]] = {}

    def made(make: Callable[[httpx.Client], dict[str, list[Any]]]) -> dict[str, list[Any]]:
        with stack.client(a_token) as client:
            return make(client)

    with ThreadPoolExecutor(5) as pool:  # the surfaces at once: most of it is waiting for jobs
        for result in pool.map(made, (narrated, editor, studio, works, others)):
            for key, values in result.items():
                ids[key] = ids.get(key, []) + values
    ids["job_or_alias"] = ids["job"] + ids["generation"]
    a = stack.client(a_token)
    a_user = _ok(a.get("/api/me"))["id"]
    secrets = {TAG, a_user, *names, *ids.pop("scene_ids"),
               *(str(v) for k, vs in ids.items() if k not in ("slide_number", "character_image", "scene_kind",
                                                               "presigned") for v in vs if len(str(v)) > 3)}

    # B's own resources for the mixed checks (B's parent, A's child); made before the snapshot.
    b = stack.client(b_tokens[0])
    b_pid = _ok(b.post("/api/v1/projects", json={"name": "bravo studio"}), 201)["id"]
    b_section = _ok(b.post("/api/v1/sections", json={"projectId": b_pid, "title": "bravo section"}), 201)["id"]
    b_sentence = _ok(b.post("/api/v1/sentences", json={"sectionId": b_section, "text": "Bravo line."}), 201)["id"]
    b_wpid = _ok(b.post("/api/projects", json={"name": "bravo works"}), 201)["id"]
    b_wid = _ok(b.post(f"/api/projects/{b_wpid}/works", json={"name": "bravo work"}), 201)["id"]
    b_users = [_ok(stack.client(t).get("/api/me"))["id"] for t in b_tokens]
    world = World(stack=stack, a=a, a_token=a_token, b_tokens=b_tokens, b_users=b_users, ids=ids, secrets=secrets,
                  b_own={"studio_project": b_pid, "section": b_section, "sentence": b_sentence,
                         "works_project": b_wpid, "work": b_wid}, media=media)
    mark("setup")
    world.timings.update(timings)
    return world


# --- bodies -------------------------------------------------------------------------------------

Body = Callable[[World], list[dict[str, Any]]]  # -> httpx request kwargs, one call each


def _json(make: Callable[[dict[str, list[Any]]], Any]) -> Body:
    return lambda w: [{"json": make(w.ids)}]


def _file(field_name: str, name: str, kind: str, mime: str) -> Body:
    return lambda w: [{"files": {field_name: (name, w.media[kind], mime)}}]


# A body valid for A's resource (what A could send to change it), written as B would (B's own
# words: a leak of A's names stays detectable). Operations with a body that are not here get one
# generated from the schema's required fields; should that fail validation, add it here.
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/project/{project_id}/upload"): _json(lambda i: {"file_name": "b.mp4", "content_type": "video/mp4"}),
    ("POST", "/api/segment/{segment_id}/split"): _json(lambda i: {"split_ts": 1.0}),
    ("POST", "/api/segment/{segment_id}/trim"): _json(lambda i: {"new_start_ts": 0.2, "new_end_ts": 1.8}),
    ("POST", "/api/segment/{segment_id}/color-grade"): _json(lambda i: {"brightness": 20}),
    ("POST", "/api/segment/{segment_id}/grade-preview"): _json(lambda i: {"brightness": 20}),
    ("POST", "/api/project/{project_id}/preview/frame"): _json(lambda i: {"ts": 0.5}),
    ("POST", "/api/project/{project_id}/preview/strip"): _json(lambda i: {"start": 0, "end": 1, "fps": 1}),
    ("POST", "/api/ai/generate"): _json(lambda i: {
        "project_id": i["editor_project"][0], "prompt": "blur it", "start_ts": 0.2, "end_ts": 1.0, "variants": 1,
        "bounding_box": {"x": 0, "y": 0, "width": 32, "height": 32}}),
    ("POST", "/api/export"): lambda w: [{"json": {"project_id": w.ids["editor_project"][0]}},
                                        {"json": {"projectId": w.ids["works_project"][0], "workId": w.ids["work"][0]}}],
    ("POST", "/api/export/preview"): _json(lambda i: {"projectId": i["works_project"][0], "workId": i["work"][0],
                                                      "t": 0.5}),
    ("POST", "/api/generate/{generation_id}/slides/{number}"): _json(lambda i: {"title": "Bravo title"}),
    ("PUT", "/api/content/{generation_id}"): _json(lambda i: {"slides": [{"slide_number": 1, "title": "Bravo"}]}),
    ("PUT", "/api/script/{generation_id}"): _json(lambda i: {"slide_scripts": [
        {"slide_number": 1, "narration_text": "Bravo says this."}]}),
    ("PUT", "/api/v1/projects/{project_id}"): _json(lambda i: {"name": "bravo rename"}),
    ("POST", "/api/v1/projects/{project_id}/cast"): _json(lambda i: {"characterId": i["character"][0]}),
    ("POST", "/api/v1/projects/{project_id}/cast/batch"): _json(lambda i: {"characterIds": i["character"]}),
    ("PUT", "/api/v1/characters/{character_id}"): _json(lambda i: {"name": "bravo rename"}),
    ("POST", "/api/v1/characters/{character_id}/images"): _file("image", "b.png", "png", "image/png"),
    ("POST", "/api/v1/projects/{project_id}/quick-generate"): _json(lambda i: {
        "topic": "bravo topic", "targetDurationMinutes": 1}),
    ("POST", "/api/v1/projects/{project_id}/generate-outline"): _json(lambda i: {
        "topic": "bravo topic", "targetDurationMinutes": 1}),
    ("POST", "/api/v1/projects/{project_id}/generate-script-short"): _json(lambda i: {
        "topic": "bravo topic", "targetDuration": 1}),
    ("POST", "/api/v1/projects/{project_id}/generate-script"): _json(lambda i: {
        "mode": "from-outline", "outlineId": i["outline"][0]}),
    ("PUT", "/api/v1/projects/{project_id}/outlines/{outline_id}"): _json(lambda i: {"title": "bravo outline"}),
    ("POST", "/api/v1/outlines/{outline_id}/regenerate-section"): _json(lambda i: {"sectionIndex": 0}),
    ("POST", "/api/v1/projects/{project_id}/outlines/{outline_id}/regenerate-section"): _json(
        lambda i: {"sectionIndex": 0}),
    ("POST", "/api/v1/sections"): _json(lambda i: {"projectId": i["studio_project"][0], "title": "bravo section"}),
    ("POST", "/api/v1/sections/reorder"): _json(lambda i: {"projectId": i["studio_project"][0],
                                                           "sectionIds": i["section_ids"][::-1]}),
    ("PUT", "/api/v1/sections/{section_id}"): _json(lambda i: {"title": "bravo section"}),
    ("POST", "/api/v1/sections/{section_id}/ai-expand"): _json(lambda i: {"mode": "quick"}),
    ("POST", "/api/v1/sections/{section_id}/ai-expand/accept"): _json(lambda i: {
        "generatedSentences": [{"text": "Bravo line."}]}),
    ("POST", "/api/v1/sentences"): _json(lambda i: {"sectionId": i["section"][0], "text": "Bravo line."}),
    ("POST", "/api/v1/sentences/reorder"): _json(lambda i: {"sectionId": i["section"][0],
                                                            "sentenceIds": i["sentence_ids"][::-1]}),
    ("PUT", "/api/v1/sentences/{sentence_id}"): _json(lambda i: {"text": "Bravo line."}),
    ("POST", "/api/v1/sentences/{sentence_id}/move"): _json(lambda i: {"targetSectionId": i["section"][0],
                                                                       "targetOrder": 0}),
    ("POST", "/api/v1/projects/{project_id}/export"): _json(lambda i: {"aspect": "16:9"}),
    ("POST", "/api/v1/export/{project_id}"): _json(lambda i: {"aspect": "16:9"}),
    ("PUT", "/api/projects/{project_id}"): _json(lambda i: {"id": i["works_project"][0], "name": "bravo rename"}),
    ("POST", "/api/projects/{project_id}/works"): _json(lambda i: {"name": "bravo work"}),
    ("PUT", "/api/projects/{project_id}/works/{work_id}"): _json(lambda i: {"id": i["work"][0], "name": "bravo"}),
    ("POST", "/api/projects/{project_id}/works/{work_id}/media/reference"): _file("video", "b.mp4", "video",
                                                                                  "video/mp4"),
    ("POST", "/api/projects/{project_id}/works/{work_id}/media/scene/{scene_ref}/{kind}"): _file(
        "file", "b.png", "png", "image/png"),
    ("POST", "/api/projects/{project_id}/works/{work_id}/media/audio"): _file("audio", "b.wav", "wav", "audio/wav"),
    ("POST", "/api/projects/{project_id}/assets"): _file("file", "b.png", "png", "image/png"),
    ("POST", "/api/projects/{project_id}/assets/upload-url"): _json(lambda i: {"file_name": "b.png"}),
    ("PUT", "/api/projects/{project_id}/assets/{asset_id}"): _json(lambda i: {"name": "bravo"}),
    ("POST", "/api/projects/{project_id}/assets/analyze-batch"): _json(lambda i: {"assetIds": i["asset"]}),
    ("POST", "/api/projects/{project_id}/templates"): _json(lambda i: {"name": "bravo", "content": {}}),
    ("PUT", "/api/projects/{project_id}/templates/{template_id}"): _json(lambda i: {"name": "bravo"}),
    ("POST", "/api/projects/{project_id}/templates/{template_id}/apply"): _json(lambda i: {"videoDuration": 4}),
    ("POST", "/api/projects/{project_id}/works/{work_id}/apply-template"): _json(lambda i: {
        "templateId": i["template"][0]}),
    # A's scene image by this API's route, and an object presigned for A (refused as "not yours").
    ("POST", "/api/generate/video"): lambda w: [
        {"json": {"image_url": f"/api/projects/{w.ids['works_project'][0]}/works/{w.ids['work'][0]}"
                               f"/media/scene/0/image", "prompt": "pan", "duration": 1}},
        *({"json": {"image_url": url, "prompt": "pan", "duration": 1}, "expect": {400, 404}}
          for url in w.ids["presigned"][:2])],
}


def _schema_value(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A minimal valid value of `schema` (required fields only), for an operation BODIES lacks."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _schema_value(options[0], components)
    if "allOf" in schema:
        return _schema_value({k: v for s in schema["allOf"] for k, v in s.items()}, components)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        out = {}
        for prop in schema.get("required", []):
            if re.search(r"(Id|_id|Ids|_ids)$", prop):
                raise LookupError(f"the required body field {prop!r} names a resource")
            out[prop] = _schema_value(schema["properties"][prop], components)
        return out
    if kind == "array":
        return [_schema_value(schema.get("items", {}), components) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0)) + (1 if "exclusiveMinimum" in schema else 0)
        return int(low) if kind == "integer" else low
    if kind == "boolean":
        return False
    return "b" * max(1, schema.get("minLength", 1))


def _bodies(w: World, doc: dict[str, Any], method: str, path: str) -> list[dict[str, Any]]:
    if (method, path) in BODIES:
        return BODIES[(method, path)](w)
    op = doc["paths"].get(path, {}).get(method.lower(), {})
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        assert not op.get("requestBody", {}).get("required") and not content, (
            f"{method} {path} takes a {list(content)} body: add one to BODIES")
        return [{}]
    try:
        body = _schema_value(content["application/json"].get("schema", {}), doc["components"]["schemas"])
    except LookupError as exc:
        raise AssertionError(f"{method} {path}: {exc}; add a body with A's id to BODIES") from None
    return [{"json": body}]


# --- the walk -------------------------------------------------------------------------------------

def _operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    ops = [(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in METHODS]
    return ops + [op for op in HIDDEN if op not in ops]


def _path_params(path: str) -> list[str]:
    return re.findall(r"{([^}]+)}", path)


def _param_entry(path: str, param: str) -> tuple[str, str] | None:
    """The PARAMS entry for a path parameter: the longest prefix of the path that names it."""
    matches = [(prefix, name) for prefix, name in PARAMS if name == param and path.startswith(prefix)]
    return max(matches, key=lambda m: len(m[0])) if matches else None


def _values_key(path: str, param: str) -> str | None:
    entry = _param_entry(path, param)
    return PARAMS[entry] if entry else None


@dataclass
class Call:
    method: str
    template: str
    url: str
    kwargs: dict[str, Any]
    expect: set[int]


def _calls(w: World, doc: dict[str, Any], method: str, path: str) -> list[Call]:
    params = _path_params(path)
    keys = [_values_key(path, p) for p in params]
    unknown = [p for p, k in zip(params, keys, strict=True) if k is None]
    assert not unknown, (f"{method} {path}: no way to get A's value for path parameter(s) {unknown}: create that "
                         "resource for A in the `world` fixture and add (prefix, parameter) to PARAMS")
    calls = []
    for combo in itertools.product(*(w.ids[k] for k in keys)):
        url = path
        for p, v in zip(params, combo, strict=True):
            url = url.replace("{" + p + "}", str(v))
        for kwargs in _bodies(w, doc, method, path):
            expect = kwargs.pop("expect", {404})
            calls.append(Call(method, path, url, kwargs, expect))
    return calls


def _send(client: httpx.Client, call: Call) -> tuple[int, str, dict[str, str]]:
    """(status, body, headers); a stream's body is read only when it is an error."""
    try:
        if call.template in STREAMING and call.method == "GET":
            with client.stream("GET", call.url, timeout=httpx.Timeout(20, read=12), **call.kwargs) as resp:
                text = resp.read().decode(errors="replace") if resp.status_code != 200 else ""
                return resp.status_code, text, dict(resp.headers)
        resp = client.request(call.method, call.url, **call.kwargs)
    except httpx.TimeoutException as exc:
        return 0, f"no answer: {type(exc).__name__}", {}
    return resp.status_code, resp.text, dict(resp.headers)


def _as_b(w: World, call: Call) -> tuple[int, str, dict[str, str]]:
    """B's answer; a B over the job-rate limit hands over to the next B (another stranger to A)."""
    for token in w.b_tokens:
        with w.stack.client(token) as client:
            status, text, headers = _send(client, call)
        if status != 429:
            return status, text, headers
    return status, text, headers


def _request_text(call: Call) -> str:
    return call.url + json.dumps(call.kwargs.get("json"), default=str)


def _leaks(w: World, call: Call, text: str, headers: dict[str, str]) -> list[str]:
    """A's ids and names in an answer to B, other than those B itself sent."""
    sent = _request_text(call)
    seen = text + json.dumps(headers)
    return sorted(s for s in w.secrets if s in seen and s not in sent)


def _problem(w: World, call: Call, status: int, text: str, headers: dict[str, str]) -> str | None:
    where = f"{call.method} {call.url} (as {call.template})"
    if status not in call.expect:
        return f"{where}: B got {status}, wanted {sorted(call.expect)}: {text[:300]}"
    if call.method != "HEAD" and text:
        try:
            body = json.loads(text)
        except ValueError:
            return f"{where}: B's {status} is not JSON: {text[:200]}"
        if call.url.startswith("/api/v1/"):  # the studio's envelope
            if not (body.get("success") is False and body.get("error", {}).get("code")):
                return f"{where}: not the studio's error envelope: {text[:200]}"
            message = body["error"].get("message", "")
        elif "detail" not in body:
            return f"{where}: no `detail` in the error: {text[:200]}"
        else:
            message = str(body["detail"])
        if status == 404 and (message == "Not Found" or message.startswith("Route ")):  # no route matched
            return f"{where}: no such route (a stale entry of HIDDEN or PARAMS?): {text[:200]}"
    leaked = _leaks(w, call, text, headers)
    if leaked:
        return f"{where}: B's answer shows A's {leaked}: {text[:300]}"
    return None


# --- snapshots -------------------------------------------------------------------------------------

def _snapshot() -> dict[str, str]:
    """Every DynamoDB item (a hash of it), S3 object (its ETag) and Step Functions execution."""
    out: dict[str, str] = {}
    ddb = aws.client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                key = f"ddb {table} {item['PK'].get('S')} | {item.get('SK', {}).get('S')}"
                out[key] = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
    s3 = aws.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                out[f"s3 {bucket['Name']} {obj['Key']}"] = f"{obj['ETag']} {obj['Size']}"
    sfn = aws.client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
            for ex in page["executions"]:
                out[f"sfn {ex['executionArn']}"] = ex["status"]
    return out


def _quiet_snapshot(timeout: float = 60) -> dict[str, str]:
    """A snapshot once nothing changes any more (A's jobs, or an earlier test's, have settled):
    unchanged for 0.5 s with no execution running, or for 3 s whatever runs (one left stuck)."""
    deadline = time.time() + timeout
    last, since = _snapshot(), time.monotonic()
    while time.time() < deadline:
        time.sleep(0.5)
        now = _snapshot()
        if now != last:
            last, since = now, time.monotonic()
            continue
        running = any(v == "RUNNING" for k, v in now.items() if k.startswith("sfn "))
        if not running or time.monotonic() - since >= 3:
            return now
    raise AssertionError(f"the stack did not settle in {timeout} s, so B's writes could not be told apart")


def _diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return ([f"added {k}" for k in after.keys() - before.keys()] +
            [f"removed {k}" for k in before.keys() - after.keys()] +
            [f"changed {k}" for k in before.keys() & after.keys() if before[k] != after[k]])


# --- the test --------------------------------------------------------------------------------------

def _a_controls(w: World, doc: dict[str, Any], targets: list[tuple[str, str]]) -> list[str]:
    """A reads each of its resources that a GET target names: B's 404 is about ownership."""
    calls = [_calls(w, doc, method, path)[0] for method, path in targets
             if method == "GET" and (method, path) not in A_CONTROL_EXCEPTIONS]

    def as_a(call: Call) -> tuple[Call, int, str, dict[str, str]]:
        with w.stack.client(w.a_token) as a:
            return (call, *_send(a, call))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(as_a, calls))
    return [f"A's own {c.method} {c.url}: {status} {text[:200]}" for c, status, text, _ in answers
            if not 200 <= status < 300]


def _websocket(w: World) -> list[str]:
    """B subscribing to A's projects on the studio's WebSocket is NOT_FOUND, and nothing is kept."""
    socket = SocketLog(w.stack.url.replace("http://", "ws://") + f"/api/v1/ws?token={w.b_tokens[0]}")
    problems = []
    try:
        socket.wait_for(lambda f: f["type"] == "connected")
        for key in ("studio_project", "editor_project", "works_project"):
            pid = w.ids[key][0]
            socket.send({"type": "subscribe", "projectId": pid})
            frame = socket.wait_for(lambda f, p=pid: f.get("projectId") == p or f.get("type") == "error")
            if frame.get("type") != "error" or frame.get("code") != "NOT_FOUND":
                problems.append(f"WS subscribe to A's {key} {pid}: {frame}")
            socket.frames.clear()
    finally:
        socket.close()
    return problems


def _mixed(w: World) -> list[tuple[Call, Callable[[int, Any], bool]]]:
    """B's own parent with A's child in the path or body: refused, nothing of A's taken."""
    i, own = w.ids, w.b_own
    bp, bs, bx = own["studio_project"], own["section"], own["sentence"]
    wp, wk = own["works_project"], own["work"]
    refused = {400, 404}

    def c(method: str, url: str, body: Any = None, expect: set[int] = refused) -> Call:
        return Call(method, "mixed", url, {"json": body} if body is not None else {}, expect)

    nothing_added = lambda status, body: status == 201 and body["data"]["added"] == []  # noqa: E731
    all_failed = lambda status, body: status == 200 and all("error" in r for r in body["results"])  # noqa: E731
    return [
        (c("POST", f"/api/v1/projects/{bp}/cast", {"characterId": i["character"][0]}), None),
        (c("POST", f"/api/v1/projects/{bp}/cast/batch", {"characterIds": i["character"]}, {400, 404, 201}),
         nothing_added),
        (c("DELETE", f"/api/v1/projects/{bp}/cast/{i['character'][0]}"), None),
        (c("POST", "/api/v1/sentences", {"sectionId": bs, "text": "x", "speakerId": i["character"][0]}), None),
        (c("PUT", f"/api/v1/sentences/{bx}", {"speakerId": i["character"][0]}), None),
        (c("POST", f"/api/v1/sentences/{bx}/move", {"targetSectionId": i["section"][0], "targetOrder": 0}), None),
        # B's section and project have one sentence and one section: A's in their place.
        (c("POST", "/api/v1/sentences/reorder", {"sectionId": bs, "sentenceIds": i["sentence"]}), None),
        (c("POST", "/api/v1/sections/reorder", {"projectId": bp, "sectionIds": i["section"]}), None),
        (c("POST", f"/api/v1/sections/{bs}/ai-expand", {"mode": "quick", "insertAfterSentenceId": i["sentence"][0]}),
         None),
        (c("POST", f"/api/v1/sections/{bs}/ai-expand/accept", {"generatedSentences": [{"text": "x"}],
                                                                "insertAfterSentenceId": i["sentence"][0]}), None),
        (c("POST", f"/api/v1/projects/{bp}/generate-script", {"mode": "from-outline", "outlineId": i["outline"][0]}),
         None),
        (c("GET", f"/api/v1/projects/{bp}/outlines/{i['outline'][0]}"), None),
        (c("PUT", f"/api/v1/projects/{bp}/outlines/{i['outline'][0]}", {"title": "x"}), None),
        (c("POST", f"/api/v1/projects/{bp}/outlines/{i['outline'][0]}/regenerate-section", {"sectionIndex": 0}),
         None),
        (c("GET", f"/api/projects/{wp}/works/{i['work'][0]}"), None),
        (c("GET", f"/api/projects/{wp}/templates/{i['template'][0]}"), None),
        (c("GET", f"/api/projects/{wp}/assets/{i['asset'][0]}"), None),
        (c("GET", f"/api/projects/{wp}/assets/{i['asset'][0]}/meta"), None),
        (c("POST", f"/api/projects/{wp}/works/{wk}/apply-template", {"templateId": i["template"][0]}), None),
        (c("POST", f"/api/projects/{wp}/assets/analyze-batch", {"assetIds": i["asset"]}, {200, 400, 404}), all_failed),
        (c("POST", "/api/export", {"projectId": wp, "workId": i["work"][0]}), None),
        (c("POST", "/api/export/preview", {"projectId": wp, "workId": i["work"][0], "t": 0}), None),
        (c("POST", "/api/generate/video", {"image_url": f"/api/projects/{wp}/works/{i['work'][0]}/media/scene/0/image",
                                           "prompt": "x", "duration": 1}), None),
    ]


@pytest.fixture
def schedules_held(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The embedded AWS's scheduled runs (the cleanup, every 15 minutes) wait while B walks:
    one deleting an earlier test's expired jobs would read as a write of B's."""
    released = threading.Event()
    invoke = world.stack.aws.invoke

    def held(logical_id: str, event: dict[str, Any]) -> Any:
        if event.get("detail-type") == "Scheduled Event":
            released.wait(600)
        return invoke(logical_id, event)

    monkeypatch.setattr(world.stack.aws, "invoke", held)
    yield released
    released.set()


def test_b_cannot_touch_anything_of_a(world: World, schedules_held: threading.Event) -> None:
    w = world
    doc = w.a.get("/api/openapi.json").json()
    ops = _operations(doc)
    problems: list[str] = []
    targets, listings, skipped = [], [], {}
    for method, path in ops:
        if _path_params(path):
            targets.append((method, path))
        elif (method, path) not in NO_PATH_PARAMS:
            problems.append(f"{method} {path}: a new operation without path parameters; classify it in NO_PATH_PARAMS "
                            "(a listing of the caller's things, a body naming a resource, or skipped with why)")
        elif NO_PATH_PARAMS[(method, path)] == BODY:
            targets.append((method, path))
        elif NO_PATH_PARAMS[(method, path)] == LISTING:
            listings.append((method, path))
        else:
            skipped[(method, path)] = NO_PATH_PARAMS[(method, path)]
    stale = [op for op in [*NO_PATH_PARAMS, *BODIES] if op not in ops]
    assert not stale, f"NO_PATH_PARAMS or BODIES name operations the API no longer has: {stale}"
    used = {_param_entry(path, p) for _, path in ops for p in _path_params(path)}
    assert not set(PARAMS) - used, f"PARAMS entries no operation uses: {sorted(set(PARAMS) - used)}"
    assert not problems, "\n".join(problems)

    calls = [call for method, path in targets for call in _calls(w, doc, method, path)]
    # HEAD runs every GET (api/head.py): B's HEAD on A's resource is a 404 too.
    calls += [Call("HEAD", c.template, c.url, {}, c.expect) for c in calls
              if c.method == "GET" and ("HEAD", c.template) not in targets and c.template not in STREAMING]
    problems += _a_controls(w, doc, targets)
    for method, path in listings:  # A's own listings show A's things: B's empty one means something
        resp = w.a.request(method, path)
        if resp.status_code != 200 or not _leaks(w, Call(method, path, path, {}, {200}), resp.text, {}):
            problems.append(f"A's own listing {method} {path} shows nothing of A's: {resp.status_code} {resp.text[:200]}")
    assert not problems, "A cannot read its own resources, so B's 404 would prove nothing:\n" + "\n".join(problems)

    before = _quiet_snapshot()
    t0 = time.monotonic()
    # First B's own parents with A's children (B's quota of job submissions is still whole:
    # these run as the B who owns those parents), then the walk.
    mixed = _mixed(w)
    with w.stack.client(w.b_tokens[0]) as b:
        for call, accept in mixed:
            status, text, headers = _send(b, call)
            ok = status in call.expect and (accept is None or status in (400, 404) or accept(status, json.loads(text)))
            if not ok:
                problems.append(f"mixed {call.method} {call.url} {call.kwargs.get('json')}: B got {status}: {text[:300]}")
            elif leaked := _leaks(w, call, text, headers):
                problems.append(f"mixed {call.method} {call.url}: B's answer shows A's {leaked}")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda c: (c, *_as_b(w, c)), calls))
    for call, status, text, headers in answers:
        if (problem := _problem(w, call, status, text, headers)) is not None:
            problems.append(problem)

    with w.stack.client(w.b_tokens[0]) as b:
        for method, path in listings:
            resp = b.request(method, path)
            call = Call(method, path, path, {}, {200})
            if resp.status_code != 200:
                problems.append(f"B's listing {method} {path}: {resp.status_code} {resp.text[:200]}")
            elif leaked := _leaks(w, call, resp.text, dict(resp.headers)):
                problems.append(f"B's listing {method} {path} shows A's {leaked}")

    problems += _websocket(w)
    walk_s = time.monotonic() - t0

    after = _quiet_snapshot()
    schedules_held.set()
    # What B may cause on its own account: its job-rate counters (RATE#<B's id>, quotas.py: a
    # job route counts the submission before it looks the resource up) and the like: only items
    # whose key names one of the B users. Anything else is a write B made.
    written = [d for d in _diff(before, after) if not any(uid in d for uid in w.b_users)]
    if written:
        problems.append("B's walk wrote:\n  " + "\n  ".join(sorted(written)))

    counts = (f"{len(ops)} operations: {len(targets)} isolation targets ({len(calls)} calls as B), "
              f"{len(listings)} listings, {len(skipped)} skipped; {len(mixed)} mixed checks; "
              f"setup {w.timings}, B's walk {walk_s:.1f} s")
    print(counts)
    assert not problems, counts + "\n" + "\n".join(problems)


@pytest.mark.parametrize("path", ["/api/project", "/api/v1/projects"])
def test_an_idempotency_key_is_the_callers_own(world: World, path: str) -> None:
    """An Idempotency-Key A used, sent by B to the same route: with the same body B gets a new
    resource of its own, not A's recorded answer (api/idempotency.py keys records by user); with
    another body, B's request runs too (a 422 would tell B that someone holds the key)."""
    body = {"name": f"{TAG} idempotent"}
    keys = [f"iso-{uuid.uuid4().hex}" for _ in range(2)]
    a_ids = [_ok(world.a.post(path, json=body, headers={"Idempotency-Key": k}), 201)["id"] for k in keys]
    with world.stack.client(world.b_tokens[0]) as b:
        same = b.post(path, json=body, headers={"Idempotency-Key": keys[0]})
        other = b.post(path, json={"name": "bravo idempotent"}, headers={"Idempotency-Key": keys[1]})
    for resp in (same, other):
        assert resp.status_code == 201, resp.text
        assert "idempotent-replayed" not in resp.headers, resp.headers
        assert not any(a_id in resp.text for a_id in a_ids), resp.text
