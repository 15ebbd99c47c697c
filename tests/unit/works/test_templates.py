"""Editor templates through the API on moto: CRUD and meta, placeholders filled or listed as
pending, image overlays whose asset is gone, the contract's timing formulas, and applying a
template to a work's own timeline."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from reelforge.api import create_app
from reelforge.works import templates


@pytest.fixture
def api(aws_mock: None) -> Iterator[tuple[TestClient, dict, str]]:
    with TestClient(create_app()) as client:
        resp = client.post("/api/auth/register", json={"email": "t@example.com", "password": "password123", "name": "T"})
        auth = {"Authorization": f"Bearer {resp.json()['accessToken']}"}
        pid = client.post("/api/projects", headers=auth, json={"name": "Brand"}).json()["id"]
        yield client, auth, pid


def _logo(client: TestClient, auth: dict, pid: str) -> str:
    out = io.BytesIO()
    Image.new("RGBA", (200, 100), (255, 102, 0, 255)).save(out, "PNG")
    resp = client.post(f"/api/projects/{pid}/assets", headers=auth, files={"file": ("logo.png", out.getvalue())})
    return resp.json()["id"]


def _content(logo: str) -> dict:
    return {"textOverlays": [
        {"id": "title", "text": "{{product}} is here", "fontSize": 72, "fontColor": "#ffffff", "centerX": 540,
         "centerY": 300, "timingMode": "relative", "startPercent": 0, "endPercent": 30},
        {"id": "cta", "text": "Use code {{ code }} at {{site}}", "centerX": 540, "centerY": 1600,
         "timingMode": "absolute", "startSeconds": 7, "endSeconds": 99}],
        "imageOverlays": [
        {"id": "logo", "assetId": logo, "width": 200, "height": 100, "centerX": 900, "centerY": 150,
         "opacity": 0.8, "rotation": 15, "maintainAspectRatio": True, "timingMode": "relative"},
        {"id": "badge", "assetId": "asset_deleted01", "width": 50, "height": 50, "centerX": 10, "centerY": 10,
         "timingMode": "relative"}],
        "defaultTransition": "fade"}


def test_templates_are_stored_listed_with_counts_and_edited(api: tuple[TestClient, dict, str]) -> None:
    client, auth, pid = api
    made = client.post(f"/api/projects/{pid}/templates", headers=auth,
                       json={"name": "Launch", "description": "", "tags": ["ad"], "content": _content("asset_x")})
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    assert tid.startswith("tmpl_") and "description" not in made.json()
    listing = client.get(f"/api/projects/{pid}/templates", headers=auth).json()
    assert listing["count"] == 1
    meta = listing["templates"][0]
    assert (meta["textOverlayCount"], meta["imageOverlayCount"], meta["hasExportSettings"]) == (2, 2, False)
    assert "content" not in meta
    renamed = client.put(f"/api/projects/{pid}/templates/{tid}", headers=auth, json={"name": "Launch v2"})
    assert renamed.json()["name"] == "Launch v2" and len(renamed.json()["content"]["textOverlays"]) == 2
    bad = client.post(f"/api/projects/{pid}/templates", headers=auth, json={"name": "x", "content": {
        "textOverlays": [{"id": "t", "text": "hi", "centerX": 1, "centerY": 1, "startPercent": 140}]}})
    assert bad.status_code == 422 and "startPercent" in bad.json()["detail"]
    assert client.delete(f"/api/projects/{pid}/templates/{tid}", headers=auth).status_code == 204
    gone = client.get(f"/api/projects/{pid}/templates/{tid}", headers=auth)
    assert gone.status_code == 404 and gone.json()["detail"] == "Template not found"


def test_apply_fills_placeholders_and_says_what_is_pending_or_missing(api: tuple[TestClient, dict, str]) -> None:
    client, auth, pid = api
    logo = _logo(client, auth, pid)
    tid = client.post(f"/api/projects/{pid}/templates", headers=auth,
                      json={"name": "Launch", "content": _content(logo)}).json()["id"]
    result = client.post(f"/api/projects/{pid}/templates/{tid}/apply", headers=auth,
                         json={"videoDuration": 10, "placeholderValues": {"product": "Tidewater", "code": "SAIL"}})
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["textOverlays"]["applied_title"]["text"] == "Tidewater is here"
    assert body["textOverlays"]["applied_cta"]["text"] == "Use code SAIL at {{site}}"
    assert body["textOverlays"]["applied_cta"]["pending"] == ["site"]
    assert body["pendingPlaceholders"] == ["site"] and body["missingAssetIds"] == ["asset_deleted01"]
    assert list(body["imageOverlays"]) == ["applied_logo"]
    track = {e["id"]: (e["start"], e["end"]) for e in body["textTrack"] + body["imageTrack"]}
    assert track == {"applied_title": (0.0, 3.0), "applied_cta": (7.0, 10.0), "applied_logo": (0.0, 10.0)}


def test_the_contracts_timing_formulas() -> None:
    relative = {"timingMode": "relative", "startPercent": 95, "endPercent": 95}
    assert templates.window(relative, 10) == (9.5, 9.6)  # at least 0.1 s on screen
    assert templates.window({"timingMode": "absolute", "startSeconds": -2}, 8) == (0.0, 8.0)
    assert templates.window({"timingMode": "absolute", "startSeconds": 3, "endSeconds": 2}, 8) == (3.0, 3.1)


def test_apply_template_merges_into_the_works_editor_state(api: tuple[TestClient, dict, str]) -> None:
    client, auth, pid = api
    logo = _logo(client, auth, pid)
    tid = client.post(f"/api/projects/{pid}/templates", headers=auth,
                      json={"name": "Launch", "content": _content(logo)}).json()["id"]
    work = client.post(f"/api/projects/{pid}/works", headers=auth, json={"name": "w"}).json()
    base = f"/api/projects/{pid}/works/{work['id']}"
    empty = client.post(f"{base}/apply-template", headers=auth, json={"templateId": tid})
    assert empty.status_code == 400 and "no timeline" in empty.json()["detail"]
    scenes = [{"image_prompt": f"scene {i}", "video_prompt": "pan", "duration_seconds": 4} for i in range(3)]
    current = client.get(base, headers=auth)
    client.put(base, headers=auth, json={**current.json(), "scenes": scenes})
    applied = client.post(f"{base}/apply-template", headers=auth,
                          json={"templateId": tid, "placeholderValues": {"product": "Tidewater"}})
    assert applied.status_code == 200, applied.text
    state = applied.json()["editorState"]
    assert state["exportSettings"] == {"width": 1080, "height": 1920, "fps": 30}
    assert state["textOverlays"]["applied_title"]["text"] == "Tidewater is here"
    title = next(e for e in state["editorData"]["textTrack"] if e["id"] == "applied_title")
    assert (title["start"], title["end"]) == (0.0, 3.6)  # 30 % of the scenes' 12 s
    assert applied.json()["templateApplication"]["pendingPlaceholders"] == ["code", "site"]
    again = client.post(f"{base}/apply-template", headers=auth, json={"templateId": tid})
    assert len(again.json()["editorState"]["editorData"]["textTrack"]) == 2  # replaced, not doubled
    missing = client.post(f"{base}/apply-template", headers=auth, json={"templateId": "tmpl_nope"})
    assert missing.status_code == 404 and missing.json()["detail"] == "Template not found"
