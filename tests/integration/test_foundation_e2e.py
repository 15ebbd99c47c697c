"""Issue 2's walk-through over real HTTP on the embedded AWS: accounts, tokens, a project,
a presigned upload probed by the S3 trigger, ownership, deletion."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from reelforge.blobs import Blobs
from reelforge.media.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "small.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", path], check=True)
    return path


def _wait_for_asset(client: httpx.Client, pid: str, aid: str, timeout: float = 30) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        asset = next(a for a in client.get(f"/api/project/{pid}").json()["assets"] if a["id"] == aid)
        if asset["status"] != "uploading":
            return asset
        time.sleep(0.2)
    raise AssertionError("the S3 trigger never processed the upload")


def test_upload_walkthrough(stack, small_video: Path) -> None:
    owner = stack.client(stack.register("owner"))
    token = owner.post("/api/tokens", json={"name": "cli", "scopes": ["projects:read", "projects:write"]})
    assert token.status_code == 201
    api = stack.client(token.json()["token"])

    pid = api.post("/api/project", json={"name": "Walkthrough"}).json()["id"]
    presigned = api.post(f"/api/project/{pid}/upload",
                         json={"file_name": "my clip.mp4", "content_type": "video/mp4"}).json()
    put = httpx.put(presigned["upload_url"], content=small_video.read_bytes(),
                    headers={"Content-Type": "video/mp4"}, timeout=60)
    assert put.status_code == 200

    asset = _wait_for_asset(api, pid, presigned["asset_id"])
    assert asset["status"] == "ready", asset
    media = asset["media"]
    assert abs(media["duration"] - 2.0) < 0.15
    assert (media["width"], media["height"]) == (320, 240)
    assert media["video_codec"] == "h264" and media["audio_codec"] == "aac"
    assert round(media["fps"]) == 25 and asset["size_bytes"] == small_video.stat().st_size

    # Not media: the asset fails with a reason.
    junk = api.post(f"/api/project/{pid}/upload", json={"file_name": "notes.mp4", "content_type": "video/mp4"}).json()
    httpx.put(junk["upload_url"], content=b"this is not a video\n" * 50, headers={"Content-Type": "video/mp4"})
    failed = _wait_for_asset(api, pid, junk["asset_id"])
    assert failed["status"] == "failed" and failed["error"]

    # Another user sees nothing of it.
    other = stack.client(stack.register("other"))
    assert other.get(f"/api/project/{pid}").status_code == 404
    assert other.delete(f"/api/project/{pid}").status_code == 404

    # Deleting removes the project and its S3 objects.
    keys_before = [k for k in Blobs().list_keys("uploads/") if f"/{pid}/" in k]
    assert len(keys_before) == 2
    assert api.delete(f"/api/project/{pid}").status_code == 204
    assert api.get(f"/api/project/{pid}").status_code == 404
    assert [k for k in Blobs().list_keys("uploads/") if f"/{pid}/" in k] == []


def test_object_without_an_asset_record_is_deleted(stack) -> None:
    """Only uploads the API presigned are kept (moto does not check signatures)."""
    key = "uploads/someone/project/asset/x.mp4"
    Blobs().put_bytes(key, b"data")
    deadline = time.time() + 15
    while Blobs().exists(key) and time.time() < deadline:
        time.sleep(0.2)
    assert not Blobs().exists(key)


def test_docs_and_cors(stack) -> None:
    client = stack.client()
    assert client.get("/api/docs").status_code == 200
    pre = client.options("/api/project", headers={"Origin": "http://localhost:5173",
                                                  "Access-Control-Request-Method": "POST"})
    assert pre.headers.get("access-control-allow-origin") == "http://localhost:5173"
    assert client.options("/api/project", headers={"Origin": "http://evil.example",
                                                   "Access-Control-Request-Method": "POST"}
                          ).headers.get("access-control-allow-origin") is None


def test_embedded_s3_streams_objects_and_ranges(stack) -> None:
    """GETs are served from moto's spooled file in chunks: a range costs its own size in
    memory, not a copy of the whole object (ffmpeg seeks a presigned source with ranges)."""
    import os
    import tracemalloc

    # tracemalloc counts every thread of this process (the API server, moto, background
    # invocations left by earlier tests), so the object is large enough that a copy of it
    # (the unpatched behaviour: ~1.1x the object) stands far above that noise.
    size = 96 << 20  # above moto's 16 MB in-memory spool: lives in a temp file
    data = os.urandom(size)
    key = "artifacts/test/streaming.bin"
    blobs = Blobs()
    blobs.put_bytes(key, data)
    url = blobs.presign_get(key)
    window = {"Range": "bytes=1000000-1999999"}
    with httpx.Client(timeout=60) as http:
        http.get(url, headers=window)  # first request: lazy imports and caches, not measured
        tracemalloc.start()
        try:
            part = http.get(url, headers=window)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert part.status_code == 206
        assert part.content == data[1000000:2000000]
        assert part.headers["content-range"] == f"bytes 1000000-1999999/{size}"
        assert peak < size // 3, f"a 1 MB range allocated {peak / 2**20:.1f} MiB"

        tail = http.get(url, headers={"Range": f"bytes={size - 5}-"})
        assert (tail.status_code, tail.content) == (206, data[-5:])
        suffix = http.get(url, headers={"Range": "bytes=-3"})
        assert (suffix.status_code, suffix.content) == (206, data[-3:])
        whole = http.get(url)
        assert whole.status_code == 200 and whole.content == data
        assert http.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
    # boto3 (download_file, get_object) reads the same streamed bodies
    assert blobs.get_bytes(key) == data
    blobs.delete(key)


def test_embedded_dynamodb_keeps_writes_made_during_failed_transactions(stack) -> None:
    """moto restores a whole-table copy when a transaction fails; a write another request
    made meanwhile was lost (edit conflicts are failed transactions). Requests are serialised."""
    import threading

    from reelforge.store import ConditionFailed, Keys, Table, Txn

    table = Table()
    stop = threading.Event()
    unexpected: list[Exception] = []

    def conflicting_edits() -> None:
        while not stop.is_set():
            try:
                table.transact([Txn.set(Keys.job("no-such-job"), {"x": 1},
                                        condition="attribute_exists(PK)")])
            except ConditionFailed:
                pass
            except Exception as exc:  # noqa: BLE001 - a 500 from the embedded server
                unexpected.append(exc)

    def writer(n: int, written: list[str]) -> None:
        for i in range(150):
            key = f"race-{n}-{i}"
            table.put({**Keys.job(key), "id": key})
            written.append(key)

    conflicts = [threading.Thread(target=conflicting_edits) for _ in range(2)]
    written: list[str] = []
    writers = [threading.Thread(target=writer, args=(n, written)) for n in range(2)]
    for t in conflicts + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in conflicts:
        t.join()
    assert not unexpected, unexpected[:3]
    lost = [k for k in written if not _exists(table, Keys.job(k))]
    assert not lost, f"{len(lost)} of {len(written)} acknowledged writes were lost"
    for k in written:
        table.delete(Keys.job(k))


def _exists(table, key) -> bool:
    from reelforge.store import NotFound

    try:
        table.get(key)
        return True
    except NotFound:
        return False


def test_head_over_real_http(stack) -> None:
    """HEAD through uvicorn: the GET's headers, no body, and an SSE stream that ends at once."""
    token = stack.register("head")
    api = stack.client(token)
    job = api.post("/api/project", json={"name": "H"}).json()
    head = api.head(f"/api/project/{job['id']}")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(api.get(f"/api/project/{job['id']}").content)
    from reelforge import jobs

    owner = api.get("/api/auth/me").json()["id"]
    started = time.time()
    progress = api.head(f"/api/progress/{jobs.create(owner, 'process')['id']}")
    assert progress.status_code == 200 and progress.content == b"" and time.time() - started < 5
