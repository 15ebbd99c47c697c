"""The script studio (seed 004) over real HTTP and a real WebSocket on the embedded AWS, local
provider: project -> outline -> long script from it (SSE and WebSocket both follow the job)
-> ai-expand + accept -> reorder and move -> media -> export (duration and speech checked on
the file) -> one sentence edited -> export again redoes only that sentence."""

from __future__ import annotations

import time
from pathlib import Path

import av
import httpx
import pytest
from speech import word_error_rate
from studio_client import SocketLog, _ok, _sse, _wait_job

from reelforge.media.transcribe import transcribe

pytestmark = pytest.mark.e2e

SOURCE = """# Why tides happen
The Moon pulls on the oceans of the Earth with its gravity. The water on the side facing the Moon
bulges toward it. A second bulge forms on the far side, where the Earth is pulled away from the water.

# Two tides a day
The Earth turns under these two bulges once a day. Most coasts therefore see two high tides and two
low tides every day. The times shift by about fifty minutes from one day to the next.

# Spring and neap tides
When the Sun and the Moon line up, their pulls add together. These strong tides are called spring
tides. When they pull at right angles, the tides are weaker, and we call them neap tides.
"""


@pytest.fixture(scope="module")
def studio(stack) -> dict:  # noqa: ANN001
    """One project taken from outline to script, with SSE and WebSocket following the job."""
    token = stack.register("studio")
    client = stack.client(token)
    project = _ok(client.post("/api/v1/projects", json={
        "name": "Tides", "topic": "Why tides happen", "targetDuration": 1, "sourceText": SOURCE,
        "styleId": "documentary", "modelId": "", "voiceId": ""}), 201)
    pid = project["id"]
    outline = _ok(client.post(f"/api/v1/projects/{pid}/generate-outline",
                              json={"topic": "Why tides happen", "targetDurationMinutes": 1}), 201)
    # three short sections, so the long script has several and the export stays short
    sections = [{"title": t, "description": d, "targetMinutes": 0.2, "keyPoints": [d]}
                for t, d in (("Why tides happen", "the Moon's pull"), ("Two tides a day", "the turning Earth"),
                             ("Spring and neap tides", "Sun and Moon together"))]
    edited = _ok(client.put(f"/api/v1/projects/{pid}/outlines/{outline['outlineId']}", json={"sections": sections}))
    socket = SocketLog(stack.url.replace("http://", "ws://") + f"/api/v1/ws?token={token}")
    socket.wait_for(lambda f: f["type"] == "connected")
    socket.send({"type": "subscribe", "projectId": pid})
    socket.wait_for(lambda f: f["type"] == "subscribed" and f["projectId"] == pid)
    started = _ok(client.post(f"/api/v1/projects/{pid}/generate-script",
                              json={"mode": "from-outline", "outlineId": outline["outlineId"]}), 202)
    events = _sse(client, pid)
    done = _wait_job(client, started["jobId"])
    socket.wait_for(lambda f: f["type"] == "job_complete" and f["jobId"] == started["jobId"])
    return {"client": client, "token": token, "pid": pid, "outline": edited, "job": started, "done": done,
            "events": events, "socket": socket}


def test_long_script_is_written_section_after_section_and_both_streams_follow_it(studio: dict) -> None:
    client, pid = studio["client"], studio["pid"]
    assert studio["done"]["status"] == "completed", studio["done"]
    assert studio["job"]["totalSections"] == 3 and studio["done"]["jobType"] == "script-long"
    names = [name for name, _ in studio["events"]]
    assert names[0] == "connected" and names[-1] == "complete" and "progress" in names, names
    progress = [data for name, data in studio["events"] if name == "progress"]
    assert all(p["jobId"] == studio["job"]["jobId"] and p["totalSections"] == 3 for p in progress)
    complete = studio["events"][-1][1]
    assert complete["totalSections"] == 3 and complete["totalSentences"] >= 6
    frames = [f for f in studio["socket"].frames if f.get("jobId") == studio["job"]["jobId"]]
    steps = [f["currentStep"] for f in frames if f["type"] == "progress" and "currentStep" in f]
    assert steps and steps == sorted(steps) and max(steps) == 3, frames
    assert all(f["jobType"] == "script-long" for f in frames)
    full = _ok(client.get(f"/api/v1/projects/{pid}"))
    titles = [s["title"] for s in full["sections"]]
    assert len(titles) == 3 and len(set(titles)) == 3
    texts = [x["text"] for s in full["sections"] for x in s["sentences"]]
    assert all(s["sentences"] for s in full["sections"]) and len(texts) == len(set(texts))
    assert "Moon" in " ".join(texts)  # written from the project's own text
    for section in full["sections"]:
        assert [x["order"] for x in section["sentences"]] == list(range(len(section["sentences"])))
        assert all(x["isAudioDirty"] and x["status"] == "pending" for x in section["sentences"])
    outline = _ok(client.get(f"/api/v1/projects/{pid}/outlines/{studio['outline']['id']}"))
    assert outline["status"] == "completed" and outline["runningSummary"] and outline["coveredTopics"]
    listed = _ok(client.get("/api/v1/projects"))["projects"]
    mine = next(p for p in listed if p["id"] == pid)
    assert mine["sectionCount"] == 3 and mine["sentenceCount"] == len(texts) and mine["status"] == "ready"


def test_expand_accept_reorder_and_move_keep_orders_dense(studio: dict) -> None:
    client, pid = studio["client"], studio["pid"]
    first, second = _ok(client.get(f"/api/v1/projects/{pid}"))["sections"][:2]
    anchor = first["sentences"][0]["id"]
    suggested = _ok(client.post(f"/api/v1/sections/{first['id']}/ai-expand",
                                json={"mode": "quick", "sentenceCount": 2, "insertAfterSentenceId": anchor}))
    assert suggested["insertPosition"] == 1 and len(suggested["generatedSentences"]) == 2
    assert len(_ok(client.get(f"/api/v1/sections/{first['id']}"))["sentences"]) == len(first["sentences"])  # unsaved
    accepted = _ok(client.post(f"/api/v1/sections/{first['id']}/ai-expand/accept", json={
        "generatedSentences": suggested["generatedSentences"], "insertAfterSentenceId": anchor}), 201)
    assert accepted["insertedCount"] == 2 and [s["order"] for s in accepted["sentences"]] == [1, 2]
    now = _ok(client.get(f"/api/v1/sections/{first['id']}"))["sentences"]
    assert [s["order"] for s in now] == list(range(len(first["sentences"]) + 2))
    assert [s["id"] for s in now][1:3] == [s["id"] for s in accepted["sentences"]]

    ids = [s["id"] for s in now]
    _ok(client.post("/api/v1/sentences/reorder", json={"sectionId": first["id"], "sentenceIds": ids[::-1]}))
    assert [s["id"] for s in _ok(client.get(f"/api/v1/sections/{first['id']}"))["sentences"]] == ids[::-1]
    bad = client.post("/api/v1/sentences/reorder", json={"sectionId": first["id"], "sentenceIds": ids[:-1]})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
    sec_ids = [s["id"] for s in _ok(client.get(f"/api/v1/projects/{pid}"))["sections"]]
    bad = client.post("/api/v1/sections/reorder", json={"projectId": pid, "sectionIds": [sec_ids[0], sec_ids[0]]})
    assert bad.status_code == 400

    moving = ids[0]
    moved = _ok(client.post(f"/api/v1/sentences/{moving}/move", json={"targetSectionId": second["id"], "targetOrder": 0}))
    assert moved["sectionId"] == second["id"] and moved["order"] == 0
    a = _ok(client.get(f"/api/v1/sections/{first['id']}"))["sentences"]
    b = _ok(client.get(f"/api/v1/sections/{second['id']}"))["sentences"]
    assert [s["order"] for s in a] == list(range(len(ids) - 1)) and moving not in [s["id"] for s in a]
    assert [s["order"] for s in b] == list(range(len(second["sentences"]) + 1)) and b[0]["id"] == moving
    _ok(client.post(f"/api/v1/sentences/{moving}/move", json={"targetSectionId": first["id"], "targetOrder": 99}))
    assert _ok(client.get(f"/api/v1/sections/{first['id']}"))["sentences"][-1]["id"] == moving
    _ok(client.post("/api/v1/sections/reorder", json={"projectId": pid, "sectionIds": sec_ids[::-1]}))
    assert [s["id"] for s in _ok(client.get(f"/api/v1/projects/{pid}"))["sections"]] == sec_ids[::-1]
    _ok(client.post("/api/v1/sections/reorder", json={"projectId": pid, "sectionIds": sec_ids}))


def _probe(path: Path) -> tuple[float, int]:
    with av.open(str(path)) as container:
        return float(container.duration) / 1e6, container.streams.video[0].width


@pytest.mark.slow
def test_export_renders_the_script_and_a_second_export_redoes_only_the_edited_sentence(
        studio: dict, stack, tmp_path: Path) -> None:  # noqa: ANN001
    client, pid = studio["client"], studio["pid"]
    t0 = time.monotonic()
    job = _ok(client.post(f"/api/v1/projects/{pid}/export", json={"aspect": "16:9"}), 202)
    done = _wait_job(client, job["jobId"])
    first_s = time.monotonic() - t0
    assert done["status"] == "completed", done
    full = _ok(client.get(f"/api/v1/projects/{pid}"))
    spoken = [x for s in full["sections"] for x in s["sentences"]]
    assert all(not (x["isAudioDirty"] or x["isImageDirty"] or x["isVideoDirty"]) for x in spoken)
    assert all(x["status"] == "completed" and x["wordTimings"] for x in spoken)
    assert sorted(done["result"]["rebuilt"]["video"]) == sorted(x["id"] for x in spoken)
    assert "designed card" in " ".join(done["result"]["notes"])
    export = _ok(client.get(f"/api/v1/projects/{pid}/export"))
    video = tmp_path / "export.mp4"
    video.write_bytes(httpx.get(export["videoUrl"], timeout=60).content)
    duration, width = _probe(video)
    audio_s = sum(x["audioDuration"] for x in spoken) / 1000
    assert width == 1920 and abs(duration - audio_s) <= 0.5, (duration, audio_s)
    ends = [(x["audioStartMs"], x["audioEndMs"]) for x in spoken]
    assert ends[0][0] == 0 and all(a[1] <= b[0] + 40 for a, b in zip(ends, ends[1:], strict=False))
    heard = transcribe(video, model="base", language="en")
    assert word_error_rate(" ".join(x["text"] for x in spoken), heard.text) <= 0.10, heard.text

    # one sentence edited: only its media are made again, and the video is joined anew
    target = spoken[2]
    edited = _ok(client.put(f"/api/v1/sentences/{target['id']}", json={
        "text": "The Moon is the main reason for tides.", "imagePrompt": "the full Moon over a harbour at high tide"}))
    assert edited["isAudioDirty"] and edited["isImageDirty"] and edited["isVideoDirty"]
    t1 = time.monotonic()
    again = _wait_job(client, _ok(client.post(f"/api/v1/projects/{pid}/export", json={}), 202)["jobId"])
    second_s = time.monotonic() - t1
    assert again["status"] == "completed", again
    assert again["result"]["rebuilt"] == {"audio": [target["id"]], "image": [target["id"]], "video": [target["id"]]}
    after = {x["id"]: x for s in _ok(client.get(f"/api/v1/projects/{pid}"))["sections"] for x in s["sentences"]}
    for x in spoken:
        same = x["id"] != target["id"]
        for field in ("audioFile", "imageFile", "videoFile"):
            assert (after[x["id"]][field] == x[field]) is same, (x["id"], field)
    print(f"\nstudio export: first {first_s:.1f} s ({len(spoken)} sentences), after one edit {second_s:.1f} s")
    assert second_s < first_s


def test_another_user_sees_none_of_it(studio: dict, stack) -> None:  # noqa: ANN001
    client, pid = studio["client"], studio["pid"]
    full = _ok(client.get(f"/api/v1/projects/{pid}"))
    section = full["sections"][0]
    sentence = section["sentences"][0]
    character = _ok(client.post("/api/v1/characters", json={"name": "Narrator Nell"}), 201)
    other_token = stack.register("intruder")
    other = stack.client(other_token)
    for path in (f"/api/v1/projects/{pid}", f"/api/v1/sections/{section['id']}", f"/api/v1/sentences/{sentence['id']}",
                 f"/api/v1/projects/{pid}/outlines/{studio['outline']['id']}", f"/api/v1/outlines/{studio['outline']['id']}",
                 f"/api/v1/characters/{character['id']}", f"/api/v1/projects/{pid}/jobs"):
        resp = other.get(path)
        assert resp.status_code == 404 and resp.json()["success"] is False, path
    for method, path, body in (
            ("PUT", f"/api/v1/sentences/{sentence['id']}", {"text": "x"}),
            ("DELETE", f"/api/v1/sections/{section['id']}", None),
            ("POST", f"/api/v1/sentences/{sentence['id']}/move", {"targetSectionId": section["id"], "targetOrder": 0}),
            ("POST", "/api/v1/sections/reorder", {"projectId": pid, "sectionIds": []}),
            ("POST", f"/api/v1/projects/{pid}/cast", {"characterId": character["id"]}),
            ("POST", f"/api/v1/projects/{pid}/export", {}),
            ("DELETE", f"/api/v1/projects/{pid}", None)):
        resp = other.request(method, path, json=body)
        assert resp.status_code == 404, (method, path, resp.text)
    socket = SocketLog(stack.url.replace("http://", "ws://") + f"/api/v1/ws?token={other_token}")
    socket.send({"type": "subscribe", "projectId": pid})
    refused = socket.wait_for(lambda f: f["type"] == "error")
    assert refused["code"] == "NOT_FOUND"
    socket.close()
    assert _ok(client.get(f"/api/v1/projects/{pid}"))["name"] == "Tides"  # untouched
