"""The studio's `/api/v1` contract on the embedded AWS: the envelope and validation of every
route, the undocumented routes, conflicts, cast and characters, the short-script job's
WebSocket events, SSE for any job type, and the cascade of a project delete."""

from __future__ import annotations

import io
import json
import threading
import time

import httpx
import pytest
from PIL import Image
from studio_client import SocketLog, _ok, _sse, _wait_job

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def user(stack) -> tuple[httpx.Client, str]:  # noqa: ANN001
    token = stack.register("studio-api")
    return stack.client(token), token


@pytest.fixture(scope="module")
def project(user) -> dict:  # noqa: ANN001
    client, _ = user
    created = _ok(client.post("/api/v1/projects", json={"name": "Coffee", "topic": "The history of coffee"}), 201)
    written = _ok(client.post(f"/api/v1/projects/{created['id']}/quick-generate",
                              json={"topic": "The history of coffee", "targetDurationMinutes": 2}), 201)
    return {**created, "written": written}


def _error(resp: httpx.Response, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    return body["error"]["message"]


def test_envelope_defaults_and_generic_structure_note(user, project) -> None:  # noqa: ANN001
    client, _ = user
    assert project["targetDuration"] == 8 and project["styleId"] == "cinematic" and project["status"] == "draft"
    assert project["voiceId"] and project["createdAt"].endswith("Z")
    written = project["written"]
    assert written["totalSentences"] == sum(s["sentenceCount"] for s in written["sections"]) > 0
    assert "generic structure" in written["note"]
    full = _ok(client.get(f"/api/v1/projects/{project['id']}"))
    assert full["status"] == "ready" and full["topic"] == "The history of coffee"
    assert [s["id"] for s in full["sections"]] == [s["id"] for s in written["sections"]]
    health = _ok(httpx.get(str(client.base_url) + "/api/v1/health"))
    assert health["status"] == "healthy" and health["database"] == "connected"
    assert {m["id"] for m in _ok(client.get("/api/v1/models"))["models"]} >= {"auto", "local-card"}
    assert "documentary" in {s["id"] for s in _ok(client.get("/api/v1/styles"))["styles"]}
    assert _ok(client.get("/api/v1/inngest"))["orchestrator"] == "aws-stepfunctions"


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("GET", "/api/v1/nothing-here", None, 404, "NOT_FOUND"),
    ("POST", "/api/v1/projects", {}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects", {"name": "x" * 201}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects", {"name": "ok", "targetDuration": 181}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects", {"name": "ok", "targetDuration": "8"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects", {"name": "ok", "voiceId": "nobody"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects", {"name": "ok", "styleId": "vaporwave"}, 400, "VALIDATION_ERROR"),
    ("GET", "/api/v1/projects/missing", None, 404, "NOT_FOUND"),
    ("DELETE", "/api/v1/projects/bad$id", None, 400, "INVALID_ID"),
    ("POST", "/api/v1/projects/{pid}/quick-generate", {"topic": "", "targetDurationMinutes": 2}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects/{pid}/generate-outline", {"topic": "t", "targetDurationMinutes": 0}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects/{pid}/generate-script-short", {"topic": "t", "targetDuration": 11}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects/{pid}/generate-script", {"mode": "from-outline"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects/{pid}/generate-script", {"mode": "auto", "topic": "t"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects/{pid}/generate-script", {"mode": "from-outline", "outlineId": "nope"}, 404, "NOT_FOUND"),
    ("POST", "/api/v1/projects/{pid}/cast", {"characterId": "nope"}, 404, "NOT_FOUND"),
    ("POST", "/api/v1/projects/{pid}/cast/batch", {"characterIds": []}, 400, "VALIDATION_ERROR"),
    ("DELETE", "/api/v1/projects/{pid}/cast/nope", None, 404, "NOT_FOUND"),
    ("POST", "/api/v1/sections", {"projectId": "{pid}", "title": ""}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sections/{sid}/ai-expand", {"mode": "loud"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sections/{sid}/ai-expand", {"mode": "guided"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sections/{sid}/ai-expand", {"mode": "quick", "sentenceCount": 6}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sections/{sid}/ai-expand", {"mode": "quick", "insertAfterSentenceId": "nope"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sections/{sid}/ai-expand/accept", {"generatedSentences": []}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sentences", {"sectionId": "{sid}", "motionStrength": 2}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sentences", {"sectionId": "{sid}", "cameraMovement": "spin"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sentences", {"sectionId": "{sid}", "speakerId": "stranger"}, 400, "VALIDATION_ERROR"),
    ("PUT", "/api/v1/sentences/{xid}", {"text": "x" * 1001}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/sentences/{xid}/move", {"targetSectionId": "nope", "targetOrder": 0}, 404, "NOT_FOUND"),
    ("POST", "/api/v1/sentences/{xid}/move", {"targetSectionId": "{sid}", "targetOrder": -1}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/outlines/nope/regenerate-section", {"sectionIndex": 0}, 404, "NOT_FOUND"),
    ("POST", "/api/v1/characters", {"name": " "}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/characters", {"name": "a", "referenceImages": ["not a url"]}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/projects/{pid}/export", {"aspect": "4:3"}, 400, "VALIDATION_ERROR"),
    ("POST", "/api/v1/inngest", {}, 400, "NOT_SUPPORTED"),
])
def test_every_error_is_enveloped(user, project, method, path, body, status, code) -> None:  # noqa: ANN001
    client, _ = user
    section = project["written"]["sections"][0]["id"]
    sentence = _ok(client.get(f"/api/v1/sections/{section}"))["sentences"][0]["id"]

    def fill(value):  # noqa: ANN001, ANN202
        if isinstance(value, str):
            return value.replace("{pid}", project["id"]).replace("{sid}", section).replace("{xid}", sentence)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    message = _error(client.request(method, fill(path), json=fill(body)), status, code)
    assert message and "Traceback" not in message
    if path == "/api/v1/nothing-here":
        assert message == "Route GET /api/v1/nothing-here not found"


def test_auth_is_required_and_enveloped(stack) -> None:  # noqa: ANN001
    anonymous = stack.client()
    assert "Authentication" in _error(anonymous.get("/api/v1/projects"), 401, "UNAUTHORIZED")
    malformed = stack.client("x").post("/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code in (400, 401) and malformed.json()["success"] is False


def test_form_clients_blank_optional_fields_mean_absent(user) -> None:  # noqa: ANN001
    client, _ = user
    made = _ok(client.post("/api/v1/projects", json={"name": "Blank", "topic": "", "modelId": "", "styleId": "",
                                                     "visualStyle": "", "voiceId": "", "sourceText": ""}), 201)
    assert made["styleId"] == "cinematic" and made["topic"] is None and made["hasSourceText"] is False
    legacy = _ok(client.post("/api/v1/projects", json={"name": "Old client", "voiceId": "Emily",
                                                       "modelId": "z-image-turbo"}), 201)
    assert legacy["modelId"] == "auto" and legacy["voiceId"] == made["voiceId"]
    changed = _ok(client.put(f"/api/v1/projects/{made['id']}", json={"targetDuration": 3, "name": ""}))
    assert changed["targetDuration"] == 3 and changed["name"] == "Blank"


def test_sentence_edits_mark_what_is_stale(user, project) -> None:  # noqa: ANN001
    client, _ = user
    section = project["written"]["sections"][0]["id"]
    made = _ok(client.post("/api/v1/sentences", json={"sectionId": section, "text": "", "order": 0}), 201)
    assert made["order"] == 0 and made["cameraMovement"] == "static" and made["motionStrength"] == 0.5
    sid = made["id"]
    key = ("isAudioDirty", "isImageDirty", "isVideoDirty")
    from reelforge.store import Keys, Table

    def clean() -> None:
        item = Table().get(Keys.ref("sentence", sid))
        Table().update(Keys.sentence(item["project_id"], item["section_id"], sid), dict.fromkeys(key, False))

    for change, stale in (({"videoPrompt": "slow push"}, (False, False, True)),
                          ({"cameraMovement": "orbit", "motionStrength": 0.2}, (False, False, True)),
                          ({"imagePrompt": "a cup"}, (False, True, True)),
                          ({"text": "Coffee came from Ethiopia."}, (True, True, True))):
        clean()
        updated = _ok(client.put(f"/api/v1/sentences/{sid}", json=change))
        assert tuple(updated[k] for k in key) == stale, change
        assert updated["status"] == "pending"
    order = [s["order"] for s in _ok(client.get(f"/api/v1/sections/{section}"))["sentences"]]
    assert order == list(range(len(order)))
    assert client.delete(f"/api/v1/sentences/{sid}").status_code == 204
    order = [s["order"] for s in _ok(client.get(f"/api/v1/sections/{section}"))["sentences"]]
    assert order == list(range(len(order)))


def test_concurrent_reorders_one_wins_the_other_gets_409(user, project) -> None:  # noqa: ANN001
    from reelforge.errors import Conflict
    from reelforge.store import Keys, Table
    from reelforge.studio import sections

    client, _ = user
    pid = project["id"]
    stale = Table().get(Keys.project(pid))  # read before someone else's reorder
    ids = sections.ids_of(stale)
    _ok(client.post("/api/v1/sections/reorder", json={"projectId": pid, "sectionIds": ids[::-1]}))
    with pytest.raises(Conflict):
        sections._commit_list(stale, ids)  # the slower writer loses instead of overwriting
    # over HTTP at the same time: every answer is 200 or 409, and the list is one of the orders sent
    orders = [ids[i:] + ids[:i] for i in range(len(ids))]
    answers: list[int] = []

    def send(order: list[str]) -> None:
        answers.append(client.post("/api/v1/sections/reorder", json={"projectId": pid, "sectionIds": order}).status_code)

    threads = [threading.Thread(target=send, args=(o,)) for o in orders * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(answers) <= {200, 409} and 200 in answers
    final = [s["id"] for s in _ok(client.get(f"/api/v1/projects/{pid}"))["sections"]]
    assert final in orders


def test_outlines_put_only_while_draft_and_regenerate_on_both_paths(user, project) -> None:  # noqa: ANN001
    client, _ = user
    pid = project["id"]
    outline = _ok(client.post(f"/api/v1/projects/{pid}/generate-outline",
                              json={"topic": "The history of coffee", "targetDurationMinutes": 16}), 201)
    assert len(outline["sections"]) == 2 and "generic structure" in outline["note"]
    put = _ok(client.put(f"/api/v1/projects/{pid}/outlines/{outline['outlineId']}", json={
        "sections": [{"title": "Origins"}, {"title": "Spread", "targetMinutes": 1, "keyPoints": ["trade"]}]}))
    assert [s["index"] for s in put["sections"]] == [0, 1] and put["totalTargetMinutes"] == 9
    assert put["sections"][0]["targetMinutes"] == 8 and put["sections"][0]["status"] == "pending"
    listed = _ok(client.get(f"/api/v1/projects/{pid}/outlines"))
    assert listed[0]["id"] == outline["outlineId"]
    job = _ok(client.post(f"/api/v1/projects/{pid}/generate-script",
                          json={"mode": "from-outline", "outlineId": outline["outlineId"]}), 202)
    assert _wait_job(client, job["jobId"])["status"] == "completed"
    late = client.put(f"/api/v1/projects/{pid}/outlines/{outline['outlineId']}", json={"title": "Late"})
    _error(late, 400, "INVALID_STATE")
    before = _ok(client.get(f"/api/v1/projects/{pid}"))["sections"]
    for path in (f"/api/v1/outlines/{outline['outlineId']}/regenerate-section",
                 f"/api/v1/projects/{pid}/outlines/{outline['outlineId']}/regenerate-section"):
        redone = _ok(client.post(path, json={"sectionIndex": 1}))
        assert redone["sectionIndex"] == 1 and redone["sentenceCount"] > 0
    after = _ok(client.get(f"/api/v1/projects/{pid}"))["sections"]
    assert after[0]["id"] == before[0]["id"] and after[1]["id"] != before[1]["id"]
    assert after[1]["title"] == before[1]["title"] and len(after) == len(before)
    _error(client.post(f"/api/v1/outlines/{outline['outlineId']}/regenerate-section", json={"sectionIndex": 5}),
           400, "VALIDATION_ERROR")


def test_short_script_job_reports_its_steps_on_the_socket_and_sse(stack, user, project) -> None:  # noqa: ANN001
    client, token = user
    pid = project["id"]
    socket = SocketLog(stack.url.replace("http://", "ws://") + "/api/v1/ws")
    socket.wait_for(lambda f: f["type"] == "connected")
    socket.send({"type": "subscribe", "projectId": pid})
    assert socket.wait_for(lambda f: f["type"] == "error")["code"] == "UNAUTHORIZED"
    socket.send({"type": "auth", "token": token})
    socket.wait_for(lambda f: f["type"] == "authenticated")
    for bad, code in (("not json", "INVALID_MESSAGE"), (json.dumps({"type": "dance"}), "UNKNOWN_MESSAGE_TYPE"),
                      (json.dumps({"type": "subscribe", "projectId": ""}), "INVALID_PROJECT_ID")):
        socket.socket.send(bad)
        assert socket.wait_for(lambda f, c=code: f.get("code") == c)
    socket.send({"type": "subscribe", "projectId": pid})
    socket.wait_for(lambda f: f["type"] == "subscribed")
    job = _ok(client.post(f"/api/v1/projects/{pid}/generate-script-short",
                          json={"topic": "Coffee in five minutes", "targetDuration": 1}), 202)
    assert job["status"] == "queued" and job["estimatedDurationSeconds"] == 10
    events = _sse(client, pid)
    socket.wait_for(lambda f: f["type"] == "job_complete" and f["jobId"] == job["jobId"])
    mine = [f for f in socket.frames if f.get("jobId") == job["jobId"]]
    progress = [(f["progress"], f["message"]) for f in mine if f["type"] == "progress"]
    assert [p for p, _ in progress] == [0, 25, 50, 75], progress
    assert progress[1][1] == "Generating script with AI..." and mine[-1]["jobType"] == "script"
    assert events[-1][0] == "complete" and events[-1][1]["jobType"] == "script"
    socket.close()


def test_sse_reports_sentence_jobs_too_and_ends_when_there_is_none(stack, user, project, monkeypatch) -> None:  # noqa: ANN001
    from reelforge.studio import router

    client, _ = user
    section = _ok(client.get(f"/api/v1/projects/{project['id']}"))["sections"][0]
    sentence = section["sentences"][0]["id"]
    job = _ok(client.post(f"/api/v1/sentences/{sentence}/generate-audio"), 202)
    events = _sse(client, project["id"])
    assert events[-1][0] == "complete" and events[-1][1]["jobId"] == job["jobId"]
    assert events[-1][1]["jobType"] == "audio" and events[-1][1]["result"]["duration"] > 0
    spoken = _ok(client.get(f"/api/v1/sentences/{sentence}"))
    assert not spoken["isAudioDirty"] and spoken["isVideoDirty"] and spoken["wordTimings"]
    assert httpx.get(spoken["audioUrl"]).content[:4] == b"RIFF"
    monkeypatch.setattr(router, "_IDLE_WAIT_S", 1.0)
    fresh = _ok(client.post("/api/v1/projects", json={"name": "Nothing yet"}), 201)
    t0 = time.monotonic()
    assert [name for name, _ in _sse(client, fresh["id"])] == ["connected", "idle"]
    assert time.monotonic() - t0 < 10


def test_characters_cast_and_reference_images(user, project) -> None:  # noqa: ANN001
    client, _ = user
    pid = project["id"]
    ada = _ok(client.post("/api/v1/characters", json={"name": "Ada", "description": "a barista",
                                                      "referenceImages": ["https://example.com/ada.png"]}), 201)
    bob = _ok(client.post("/api/v1/characters", json={"name": "Bob", "voiceId": "espeak-en-us"}), 201)
    assert len(_ok(client.post(f"/api/v1/projects/{pid}/cast", json={"characterId": ada["id"]}), 201)) == 1
    _error(client.post(f"/api/v1/projects/{pid}/cast", json={"characterId": ada["id"]}), 400, "DUPLICATE")
    batch = _ok(client.post(f"/api/v1/projects/{pid}/cast/batch",
                            json={"characterIds": [ada["id"], bob["id"], "ghost"]}), 201)
    assert batch == {"added": [bob["id"]], "skipped": [ada["id"], "ghost"]}
    assert [c["name"] for c in _ok(client.get(f"/api/v1/projects/{pid}"))["cast"]] == ["Ada", "Bob"]

    png = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(png, format="PNG")
    up = client.post(f"/api/v1/characters/{ada['id']}/images", files={"image": ("a.jpg", png.getvalue(), "image/jpeg")})
    viewed = _ok(up, 201)
    assert viewed["uploadedImages"] == 1 and len(viewed["referenceImages"]) == 2
    assert httpx.get(viewed["referenceImages"][1]).content.startswith(b"\x89PNG")
    fake = client.post(f"/api/v1/characters/{ada['id']}/images", files={"image": ("x.png", b"GIF89a-not-png", "image/png")})
    _error(fake, 400, "INVALID_FILE_TYPE")
    big = client.post(f"/api/v1/characters/{ada['id']}/images",
                      files={"image": ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 2**20 + 10), "image/png")})
    assert big.status_code in (400, 413) and big.json()["success"] is False
    for _ in range(3):
        _ok(client.post(f"/api/v1/characters/{ada['id']}/images", files={"image": ("a.png", png.getvalue(), "image/png")}), 201)
    _error(client.post(f"/api/v1/characters/{ada['id']}/images", files={"image": ("a.png", png.getvalue(), "image/png")}),
           400, "TOO_MANY_IMAGES")

    section = _ok(client.get(f"/api/v1/projects/{pid}"))["sections"][0]["id"]
    line = _ok(client.post("/api/v1/sentences", json={"sectionId": section, "text": "I roast the beans.",
                                                      "speakerId": bob["id"]}), 201)
    assert line["speakerId"] == bob["id"]
    assert client.delete(f"/api/v1/projects/{pid}/cast/{bob['id']}").status_code == 204
    _error(client.delete(f"/api/v1/projects/{pid}/cast/{bob['id']}"), 404, "NOT_FOUND")
    assert client.delete(f"/api/v1/characters/{ada['id']}").status_code == 204
    assert _ok(client.get(f"/api/v1/projects/{pid}"))["cast"] == []
    assert [c["name"] for c in _ok(client.get("/api/v1/characters"))] == ["Bob"]


def test_deleting_a_project_removes_everything_under_it(user) -> None:  # noqa: ANN001
    from reelforge.blobs import Blobs, project_prefix
    from reelforge.store import Keys, NotFound, Table

    client, _ = user
    made = _ok(client.post("/api/v1/projects", json={"name": "Doomed", "sourceText": "One line. Two lines."}), 201)
    pid = made["id"]
    written = _ok(client.post(f"/api/v1/projects/{pid}/quick-generate",
                              json={"topic": "Doomed", "targetDurationMinutes": 1}), 201)
    section = written["sections"][0]["id"]
    sentence = _ok(client.get(f"/api/v1/sections/{section}"))["sentences"][0]["id"]
    job = _ok(client.post(f"/api/v1/sentences/{sentence}/generate-image"), 202)
    assert _wait_job(client, job["jobId"])["status"] == "completed"
    assert list(Blobs().list_keys(project_prefix(pid)))
    assert client.delete(f"/api/v1/projects/{pid}").status_code == 204
    assert list(Blobs().list_keys(project_prefix(pid))) == []
    assert list(Table().query_partition(f"PROJECT#{pid}")) == []
    for key in (Keys.ref("section", section), Keys.ref("sentence", sentence), Keys.job(job["jobId"])):
        with pytest.raises(NotFound):
            Table().get(key)
    _error(client.get(f"/api/v1/projects/{pid}"), 404, "NOT_FOUND")


def _studio_gemini(image_png: bytes):  # noqa: ANN202 - the fake's Handler
    """Answers as Gemini would, by the response schema each request sends."""
    from fakes.fake_gemini import FakeResponse, generate_content_body, inline_data_body

    written = {"sections": 0}

    def sentences(tag: str, n: int) -> list[dict]:
        return [{"text": f"Gemini line {i + 1} of {tag} explains how roasting changes the coffee bean.",
                 "image_prompt": f"coffee roastery, {tag}, shot {i + 1}", "video_prompt": "slow push in",
                 "camera_movement": "wobble" if i == 0 else "zoom_in", "speaker": ""} for i in range(n)]

    def answer(request) -> FakeResponse:  # noqa: ANN001 - RecordedRequest
        config = json.dumps(request.generation_config)
        if "IMAGE" in config:
            return FakeResponse(body=inline_data_body(image_png, "image/png", model=request.model or ""))
        if "key_points" in config:
            return FakeResponse(body=generate_content_body(json.dumps({"title": "Coffee by Gemini", "sections": [
                {"title": "Beans", "description": "where beans come from", "target_minutes": 8,
                 "key_points": ["origins", "varieties"]},
                {"title": "Roasting", "description": "heat and flavour", "target_minutes": 8,
                 "key_points": ["roast levels", "chemistry"]}]})))
        if "covered_topics" in config:
            written["sections"] += 1
            n = written["sections"]
            return FakeResponse(body=generate_content_body(json.dumps({
                "sentences": sentences(f"section {n}", 50), "summary": f"Summary after section {n}.",
                "covered_topics": [f"topic {n}"]})))
        return None

    return answer


def test_gemini_writes_the_long_script_with_a_running_summary_and_its_key_is_never_stored(
        stack, monkeypatch) -> None:  # noqa: ANN001
    from fakes.fake_gemini import FakeGemini
    from stored import assert_never_stored

    from reelforge.settings import get_settings

    key = "AIzaE2E-studio-secret-key-31"
    png = io.BytesIO()
    Image.new("RGB", (64, 36), (30, 90, 160)).save(png, format="PNG")
    with FakeGemini(api_key=key, handler=_studio_gemini(png.getvalue())) as fake:
        monkeypatch.setenv("GEMINI_BASE_URL", fake.base_url)
        get_settings.cache_clear()
        client = stack.client(stack.register("gemini-studio"))
        client.headers["X-Gemini-Key"] = key
        pid = _ok(client.post("/api/v1/projects", json={"name": "Gemini coffee"}), 201)["id"]
        job = _ok(client.post(f"/api/v1/projects/{pid}/generate-script", json={
            "mode": "auto", "topic": "Coffee", "targetDurationMinutes": 16}), 202)
        assert job["totalSections"] == 2
        done = _wait_job(client, job["jobId"])
        assert done["status"] == "completed", done
        full = _ok(client.get(f"/api/v1/projects/{pid}"))
        assert [s["title"] for s in full["sections"]] == ["Beans", "Roasting"]
        first = full["sections"][0]["sentences"]
        assert len(first) == 50 and first[0]["text"].startswith("Gemini line 1 of section 1")
        assert first[0]["cameraMovement"] == "static" and first[1]["cameraMovement"] == "zoom_in"
        section_calls = [r for r in fake.requests if "covered_topics" in json.dumps(r.generation_config)]
        assert len(section_calls) == 2
        assert "Summary after section 1." in section_calls[1].prompt_text and "topic 1" in section_calls[1].prompt_text
        sentence = first[0]["id"]
        image_job = _ok(client.post(f"/api/v1/sentences/{sentence}/generate-image"), 202)
        assert _wait_job(client, image_job["jobId"])["status"] == "completed"
        drawn = _ok(client.get(f"/api/v1/sentences/{sentence}"))
        assert drawn.get("imageNote") is None and not drawn["isImageDirty"]
        picture = Image.open(io.BytesIO(httpx.get(drawn["imageUrl"]).content)).convert("RGB")
        assert picture.size == (1920, 1080) and picture.resize((1, 1)).getpixel((0, 0)) == (30, 90, 160)
        assert any("IMAGE" in json.dumps(r.generation_config) for r in fake.requests)
        assert {r.api_key for r in fake.requests} == {key}
    monkeypatch.delenv("GEMINI_BASE_URL")
    get_settings.cache_clear()

    assert_never_stored(key, ("-script", "-media"))


def test_null_and_blank_mean_absent_and_null_clears_what_can_be_cleared(user) -> None:  # noqa: ANN001
    client, _ = user
    made = _ok(client.post("/api/v1/projects", json={"name": "Nulls", "topic": None, "modelId": None, "styleId": None,
                                                     "voiceId": None, "sourceText": None, "targetDuration": ""}), 201)
    assert made["topic"] is None and made["targetDuration"] == 8
    pid = made["id"]
    assert _ok(client.put(f"/api/v1/projects/{pid}", json={"topic": "Tea"}))["topic"] == "Tea"
    assert _ok(client.put(f"/api/v1/projects/{pid}", json={"topic": ""}))["topic"] == "Tea"  # "" is absent
    assert _ok(client.put(f"/api/v1/projects/{pid}", json={"topic": None}))["topic"] is None  # null clears
    written = _ok(client.post(f"/api/v1/projects/{pid}/quick-generate",
                              json={"topic": "Tea", "targetDurationMinutes": 1}), 201)
    sentence = _ok(client.get(f"/api/v1/sections/{written['sections'][0]['id']}"))["sentences"][0]
    kept = _ok(client.put(f"/api/v1/sentences/{sentence['id']}",
                          json={"text": None, "cameraMovement": None, "motionStrength": None, "imagePrompt": ""}))
    assert kept["text"] == sentence["text"] and kept["cameraMovement"] == sentence["cameraMovement"]
    assert kept["imagePrompt"] == sentence["imagePrompt"] and kept["motionStrength"] == sentence["motionStrength"]
    cleared = _ok(client.put(f"/api/v1/sentences/{sentence['id']}", json={"imagePrompt": None}))
    assert "imagePrompt" not in cleared and cleared["isImageDirty"]
    for body in ({"name": "x", "description": None, "styleLora": None}, {"name": "y", "description": ""}):
        _ok(client.post("/api/v1/characters", json=body), 201)
    message = _error(client.post("/api/v1/projects", json={"name": "x", "topic": "t" * 1001}), 400, "VALIDATION_ERROR")
    assert message == "topic: String should have at most 1000 characters"
    message = _error(client.post("/api/v1/projects", content=b'{"name": ', headers={"content-type": "application/json"}),
                     400, "VALIDATION_ERROR")
    assert message == "Malformed JSON body"
    message = _error(client.post(f"/api/v1/projects/{pid}/generate-script", json={"mode": "from-outline"}),
                     400, "VALIDATION_ERROR")
    assert message == "outlineId is required for from-outline mode"
    _error(client.post(f"/api/v1/projects/{pid}/quick-generate",
                       json={"topic": "t", "targetDurationMinutes": 1, "useSearchGrounding": "yes"}), 400, "VALIDATION_ERROR")


@pytest.mark.slow
def test_one_writer_at_a_time_and_never_while_media_are_made(user) -> None:  # noqa: ANN001
    client, _ = user
    pid = _ok(client.post("/api/v1/projects", json={"name": "Races"}), 201)["id"]
    answers: list[httpx.Response] = []

    def write(topic: str) -> None:
        answers.append(client.post(f"/api/v1/projects/{pid}/quick-generate",
                                   json={"topic": topic, "targetDurationMinutes": 1}))

    threads = [threading.Thread(target=write, args=(t,)) for t in ("Milk", "Tea", "Cocoa", "Juice")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in answers if r.status_code == 201]
    assert len(won) >= 1 and all(r.status_code in (201, 409) for r in answers)
    full = _ok(client.get(f"/api/v1/projects/{pid}"))
    assert [s["id"] for s in full["sections"]] == [s["id"] for s in won[-1].json()["data"]["sections"]]
    job = _ok(client.post(f"/api/v1/projects/{pid}/generate-media"), 202)
    _error(client.post(f"/api/v1/projects/{pid}/quick-generate", json={"topic": "x", "targetDurationMinutes": 1}),
           409, "CONFLICT")
    _error(client.post(f"/api/v1/projects/{pid}/generate-script-short", json={"topic": "x", "targetDuration": 1}),
           409, "CONFLICT")
    _error(client.post(f"/api/v1/projects/{pid}/export", json={}), 409, "CONFLICT")
    assert _wait_job(client, job["jobId"])["status"] == "completed"
    sentence = full["sections"][0]["sentences"][0]["id"]
    again = client.post(f"/api/v1/sentences/{sentence}/generate-audio")
    twice = client.post(f"/api/v1/sentences/{sentence}/generate-audio")
    assert again.status_code == 202 and twice.status_code == 409
    assert _wait_job(client, again.json()["data"]["jobId"])["status"] == "completed"
    empty = _ok(client.post("/api/v1/projects", json={"name": "Empty"}), 201)["id"]
    assert "nothing to export" in _error(client.post(f"/api/v1/projects/{empty}/export", json={}), 400, "VALIDATION_ERROR")


def test_parallel_creates_all_land_densely(user, project) -> None:  # noqa: ANN001
    client, _ = user
    section = _ok(client.post("/api/v1/sections", json={"projectId": project["id"], "title": "Parallel"}), 201)["id"]
    answers: list[int] = []

    def add(n: int) -> None:
        answers.append(client.post("/api/v1/sentences", json={"sectionId": section, "text": f"Line {n}."}).status_code)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [201] * 12
    lines = _ok(client.get(f"/api/v1/sections/{section}"))["sentences"]
    assert sorted(x["text"] for x in lines) == sorted(f"Line {n}." for n in range(12))
    assert [x["order"] for x in lines] == list(range(12))
    other = _ok(client.post("/api/v1/sections", json={"projectId": project["id"], "title": "Moved to"}), 201)["id"]
    moves = [(client.post, f"/api/v1/sentences/{x['id']}/move", {"targetSectionId": other, "targetOrder": 0})
             for x in lines[:4]]
    deletes = [(client.delete, f"/api/v1/sentences/{x['id']}", None) for x in lines[4:8]]
    results: list[int] = []

    def send(call, path, body) -> None:  # noqa: ANN001
        results.append((call(path, json=body) if body else call(path)).status_code)

    threads = [threading.Thread(target=send, args=op) for op in moves + deletes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 4 + [204] * 4, results
    left = _ok(client.get(f"/api/v1/sections/{section}"))["sentences"]
    moved = _ok(client.get(f"/api/v1/sections/{other}"))["sentences"]
    assert [x["id"] for x in left] == [x["id"] for x in lines[8:]] and [x["order"] for x in left] == [0, 1, 2, 3]
    assert sorted(x["id"] for x in moved) == sorted(x["id"] for x in lines[:4])
    assert [x["order"] for x in moved] == [0, 1, 2, 3]
    gone = [threading.Thread(target=send, args=(client.delete, f"/api/v1/sections/{sid}", None)) for sid in (section, other)]
    results.clear()
    for t in gone:
        t.start()
    for t in gone:
        t.join()
    assert results == [204, 204]


def test_regenerating_an_unwritten_outline_section_is_404(user) -> None:  # noqa: ANN001
    client, _ = user
    pid = _ok(client.post("/api/v1/projects", json={"name": "Unwritten"}), 201)["id"]
    outline = _ok(client.post(f"/api/v1/projects/{pid}/generate-outline",
                              json={"topic": "Tea", "targetDurationMinutes": 8}), 201)
    message = _error(client.post(f"/api/v1/outlines/{outline['outlineId']}/regenerate-section", json={"sectionIndex": 0}),
                     404, "NOT_FOUND")
    assert message.startswith("Section not found in database")


def test_deleting_a_project_ends_its_running_job_for_subscribers(stack, user) -> None:  # noqa: ANN001
    client, token = user
    pid = _ok(client.post("/api/v1/projects", json={"name": "Short-lived"}), 201)["id"]
    socket = SocketLog(stack.url.replace("http://", "ws://") + f"/api/v1/ws?token={token}")
    socket.send({"type": "subscribe", "projectId": pid})
    socket.wait_for(lambda f: f["type"] == "subscribed")
    job = _ok(client.post(f"/api/v1/projects/{pid}/generate-script",
                          json={"mode": "auto", "topic": "Tea", "targetDurationMinutes": 40}), 202)
    assert client.delete(f"/api/v1/projects/{pid}").status_code == 204
    failed = socket.wait_for(lambda f: f["type"] == "job_failed" and f["jobId"] == job["jobId"])
    assert "deleted" in failed["error"]
    socket.close()
