"""AutoVio's project assets through the API on moto: kinds read from the bytes, measurements
and thumbnails on upload, list filters and totals, edits, deletes, the quota, isolation and
the local analysis."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from reelforge.api import create_app
from reelforge.blobs import Blobs
from reelforge.media.slides import font_for
from reelforge.settings import get_settings


@pytest.fixture
def api(aws_mock: None) -> Iterator[tuple[TestClient, dict, str]]:
    with TestClient(create_app()) as client:
        auth = _register(client, "owner@example.com")
        pid = client.post("/api/projects", headers=auth, json={"name": "Brand"}).json()["id"]
        yield client, auth, pid


def _register(client: TestClient, email: str) -> dict[str, str]:
    resp = client.post("/api/auth/register", json={"email": email, "password": "password123", "name": "N"})
    return {"Authorization": f"Bearer {resp.json()['accessToken']}"}


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (400, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _wav(amplitude: float, seconds: float = 1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        frames = b"".join(struct.pack("<h", round(amplitude * 32767 * math.sin(2 * math.pi * 440 * i / 16000)))
                          for i in range(round(16000 * seconds)))
        w.writeframes(frames)
    return out.getvalue()


def _upload(client: TestClient, auth: dict, pid: str, file_name: str, data: bytes, **fields: str):  # noqa: ANN202
    return client.post(f"/api/projects/{pid}/assets", headers=auth,
                       files={"file": (file_name, data, "application/octet-stream")}, data=fields)


def test_uploads_are_typed_by_their_bytes_and_measured(api: tuple[TestClient, dict, str]) -> None:
    client, auth, pid = api
    image = _upload(client, auth, pid, "logo.png", _png((11, 61, 145)), name="Logo", tags='["brand", "logo"]')
    assert image.status_code == 201, image.text
    body = image.json()
    assert (body["type"], body["mimeType"], body["width"], body["height"]) == ("image", "image/png", 400, 200)
    assert body["tags"] == ["brand", "logo"] and body["name"] == "Logo" and body["url"].endswith(body["id"])
    thumb = client.get(body["thumbnail"], headers=auth)
    assert thumb.headers["content-type"] == "image/jpeg" and max(Image.open(io.BytesIO(thumb.content)).size) == 320
    font = _upload(client, auth, pid, "brand.bin", Path(font_for("english", bold=True)).read_bytes(), tags="type, bold")
    assert font.status_code == 201 and font.json()["type"] == "font" and font.json()["tags"] == ["type", "bold"]
    audio = _upload(client, auth, pid, "jingle.wav", _wav(0.5))
    assert audio.json()["type"] == "audio" and audio.json()["duration"] == pytest.approx(1.0, abs=0.01)
    served = client.get(body["url"], headers=auth)
    assert served.headers["content-type"] == "image/png" and served.content == _png((11, 61, 145))
    listing = client.get(f"/api/projects/{pid}/assets", headers=auth).json()
    assert listing["count"] == 3 and listing["totalSize"] == sum(a["size"] for a in listing["assets"])
    only = client.get(f"/api/projects/{pid}/assets?type=font", headers=auth).json()
    assert [a["id"] for a in only["assets"]] == [font.json()["id"]]
    assert client.get(f"/api/projects/{pid}/assets?type=pdf", headers=auth).status_code == 400


def test_the_local_analysis_says_what_was_measured(api: tuple[TestClient, dict, str]) -> None:
    client, auth, pid = api
    image = _upload(client, auth, pid, "blue.png", _png((11, 61, 145))).json()
    quiet = _upload(client, auth, pid, "quiet.wav", _wav(0.1)).json()
    loud = _upload(client, auth, pid, "loud.wav", _wav(0.8)).json()
    described = client.post(f"/api/projects/{pid}/assets/{image['id']}/analyze", headers=auth).json()
    assert "400x200" in described["description"] and "#0b3d91" in described["description"]
    assert client.get(f"/api/projects/{pid}/assets/{image['id']}/meta", headers=auth).json()["description"] == \
        described["description"]
    batch = client.post(f"/api/projects/{pid}/assets/analyze-batch", headers=auth,
                        json={"assetIds": [quiet["id"], loud["id"], "asset_gone"]}).json()["results"]
    levels = [float(r["description"].split("loudness ")[1].split(" dBFS")[0]) for r in batch[:2]]
    assert levels[1] - levels[0] == pytest.approx(20 * math.log10(8), abs=0.5)
    assert batch[2] == {"assetId": "asset_gone", "error": "Asset not found"}


def test_disguised_empty_and_oversize_files_are_refused(api: tuple[TestClient, dict, str]) -> None:
    client, auth, pid = api
    exe = _upload(client, auth, pid, "photo.png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200)
    assert exe.status_code == 400 and "Unsupported file type" in exe.json()["detail"]
    assert _upload(client, auth, pid, "empty.png", b"").status_code == 400
    big = client.post(f"/api/projects/{pid}/assets", headers={**auth, "content-type": "multipart/form-data; boundary=x",
                                                              "content-length": str(60 * 2**20)}, content=b"--x\r\n")
    assert big.status_code == 413
    assert client.get(f"/api/projects/{pid}/assets", headers=auth).json()["count"] == 0


def test_the_quota_edits_deletes_and_other_users(api: tuple[TestClient, dict, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    client, auth, pid = api
    first = _upload(client, auth, pid, "a.png", _png((200, 30, 30))).json()
    monkeypatch.setattr(get_settings(), "project_storage_quota_mb", 0)  # full from here on
    over = _upload(client, auth, pid, "b.png", _png((30, 200, 30)))
    assert over.status_code == 413 and "quota" in over.json()["detail"]
    edited = client.put(f"/api/projects/{pid}/assets/{first['id']}", headers=auth,
                        json={"name": "Hero", "tags": ["a", "a", " b "], "description": ""})
    assert edited.status_code == 200 and edited.json()["name"] == "Hero" and edited.json()["tags"] == ["a", "b"]
    other = _register(client, "other@example.com")
    for method, path in (("get", first["url"]), ("get", f"{first['url']}/meta"), ("delete", first["url"]),
                         ("get", f"/api/projects/{pid}/assets")):
        assert client.request(method, path, headers=other).status_code == 404, path
    key = next(iter(Blobs().list_keys(f"artifacts/projects/{pid}/assets/{first['id']}/")))
    assert client.delete(first["url"], headers=auth).status_code == 204
    assert not Blobs().exists(key)
    assert client.get(first["url"], headers=auth).status_code == 404


def _key_of(url: str) -> str:
    """The object key a presigned URL names (virtual-hosted or path style)."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url).path).lstrip("/")
    bucket = get_settings().bucket_name
    return path.removeprefix(f"{bucket}/")


def test_a_presigned_upload_becomes_a_measured_asset_when_it_lands(api: tuple[TestClient, dict, str]) -> None:
    from reelforge.uploads import handle_s3_event

    client, auth, pid = api
    made = client.post(f"/api/projects/{pid}/assets/upload-url", headers=auth,
                       json={"file_name": "hero.png", "name": "Hero", "tags": ["brand"]})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "uploading" and body["upload_url"].startswith("http")
    key = _key_of(body["upload_url"])
    Blobs().put_bytes(key, _png((20, 160, 90)), "application/octet-stream")
    outcome = handle_s3_event({"Records": [{"s3": {"object": {"key": key, "size": len(_png((20, 160, 90)))}}}]})
    assert outcome == [{"key": key, "outcome": "ready"}]
    meta = client.get(f"/api/projects/{pid}/assets/{body['id']}/meta", headers=auth).json()
    assert (meta["status"], meta["type"], meta["width"], meta["name"], meta["tags"]) == ("ready", "image", 400, "Hero",
                                                                                        ["brand"])
    assert not Blobs().exists(key)  # the upload itself goes; the asset lives under the project
    bad = client.post(f"/api/projects/{pid}/assets/upload-url", headers=auth, json={"file_name": "x.png"}).json()
    bad_key = _key_of(bad["upload_url"])
    Blobs().put_bytes(bad_key, b"MZ\x90\x00" + b"\x00" * 100)
    assert handle_s3_event({"Records": [{"s3": {"object": {"key": bad_key, "size": 104}}}]})[0]["outcome"] == "failed"
    failed = client.get(f"/api/projects/{pid}/assets/{bad['id']}/meta", headers=auth).json()
    assert failed["status"] == "failed" and "Unsupported file type" in failed["error"]
