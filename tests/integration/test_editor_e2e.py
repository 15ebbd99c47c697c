"""The editor surface over real HTTP on the embedded AWS: upload -> split -> trim -> delete ->
grade -> previews -> AI region edit -> score -> accept -> export, checked frame by frame."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest

from reelforge.media.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.e2e

# One solid colour per second of the source (RGB), with a textured test pattern top-left.
COLOURS = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (220, 220, 30), (30, 210, 210),
           (210, 30, 210), (150, 150, 150), (240, 140, 20)]
FPS = 25


@pytest.fixture(scope="module")
def colour_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("editor") / "colours.mp4"
    inputs: list[str] = []
    for r, g, b in COLOURS:
        inputs += ["-f", "lavfi", "-i", f"color=c=0x{r:02x}{g:02x}{b:02x}:s=320x240:r={FPS}:d=1"]
    n = len(COLOURS)
    graph = ("".join(f"[{i}:v]" for i in range(n)) + f"concat=n={n}:v=1:a=0[bg];"
             f"testsrc2=s=160x120:r={FPS}:d={n}[t];[bg][t]overlay=0:0:shortest=1,format=yuv420p[v]")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *inputs, "-f", "lavfi", "-i",
                    f"sine=frequency=330:sample_rate=48000:duration={n}", "-filter_complex", graph,
                    "-map", "[v]", "-map", f"{n}:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                    "-c:a", "aac", "-shortest", path], check=True)
    return path


def _colour_at(jpeg_or_frame: bytes | np.ndarray) -> np.ndarray:
    """Mean RGB of the bottom-right quarter (away from the test pattern)."""
    if isinstance(jpeg_or_frame, np.ndarray):
        rgb = jpeg_or_frame
    else:
        bgr = cv2.imdecode(np.frombuffer(jpeg_or_frame, np.uint8), cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return rgb[h * 5 // 8:, w * 5 // 8:].reshape(-1, 3).mean(axis=0)


def _near(rgb: np.ndarray, second: int, tol: float = 30) -> bool:
    return float(np.abs(rgb - np.array(COLOURS[second])).max()) < tol


def _segments(api: httpx.Client, pid: str) -> list[dict]:
    return api.get(f"/api/project/{pid}").json()["segments"]


def _upload_video(api: httpx.Client, pid: str, video: Path, name: str = "c.mp4") -> None:
    """Presigned upload of the project's video; returns once the S3 trigger made its timeline."""
    up = api.post(f"/api/project/{pid}/upload", json={"file_name": name, "content_type": "video/mp4"}).json()
    httpx.put(up["upload_url"], content=video.read_bytes(), headers={"Content-Type": "video/mp4"})
    deadline = time.time() + 30
    while not _segments(api, pid) and time.time() < deadline:
        time.sleep(0.2)


def test_editor_walkthrough(stack, colour_video: Path) -> None:
    api = stack.client(stack.register("editor"))
    pid = api.post("/api/project", json={"name": "Edit me"}).json()["id"]
    _upload_video(api, pid, colour_video, "colours.mp4")
    (whole,) = _segments(api, pid)
    assert (whole["start_ts"], whole["source"], whole["order_index"], whole["active"]) == (0.0, "original", 0, True)
    assert abs(whole["end_ts"] - 8.0) < 0.05 and whole["url"]

    # split -> trim -> split -> delete: [2,4) [5,8)
    halves = api.post(f"/api/segment/{whole['id']}/split", json={"split_ts": 4.0}).json()
    a, b = halves["left"], halves["right"]
    assert (a["end_ts"], b["start_ts"], a["order_index"], b["order_index"]) == (4.0, 4.0, 0, 1)
    b2 = api.post(f"/api/segment/{b['id']}/trim", json={"new_start_ts": 5.0, "new_end_ts": b["end_ts"]}).json()
    assert b2["start_ts"] == 5.0
    parts = api.post(f"/api/segment/{a['id']}/split", json={"split_ts": 2.0}).json()
    assert api.delete(f"/api/segment/{parts['left']['id']}").json() == {"deleted": True}
    timeline = _segments(api, pid)
    assert [(s["start_ts"], s["order_index"]) for s in timeline] == [(2.0, 0), (5.0, 1)]
    a2 = timeline[0]

    # Grade preview, then a real grade that replaces the segment when rendered.
    bright = {"brightness": 40, "contrast": 0, "saturation": 0, "temperature": 0, "gamma": 0, "hue_shift": 0}
    preview = api.post(f"/api/segment/{a2['id']}/grade-preview", json=bright).json()
    graded_preview = _colour_at(httpx.get(preview["preview_frame_url"]).content)
    assert graded_preview.mean() > np.array(COLOURS[3]).mean() - 5  # second 3, brighter or equal
    graded = api.post(f"/api/segment/{a2['id']}/color-grade", json=bright).json()
    assert graded["status"] == "rendering" and graded["segment_id"]
    job = stack.wait(api, f"/api/job/{graded['job_id']}")
    assert job["status"] == "completed", job
    assert job["graded_url"]
    timeline = _segments(api, pid)
    assert timeline[0]["id"] == graded["segment_id"] and timeline[0]["source"] == "graded"
    assert timeline[0]["status"] == "ready" and abs(timeline[0]["end_ts"] - 2.0) < 0.05

    # Preview frame and strip on the timeline (graded [0,2) then original [5,8)).
    frame = api.post(f"/api/project/{pid}/preview/frame", json={"ts": 3.5}).json()
    assert frame["timestamp"] == 3.5
    assert _near(_colour_at(httpx.get(frame["frame_url"]).content), 6)
    strip = api.post(f"/api/project/{pid}/preview/strip", json={"start": 2.5, "end": 4.5, "fps": 1}).json()
    assert [f["timestamp"] for f in strip["frames"]] == [2.5, 3.5, 4.5]
    assert [_near(_colour_at(httpx.get(f["frame_url"]).content), s) for f, s in zip(strip["frames"], (5, 6, 7), strict=True)] == [True] * 3

    # AI region edit with the local provider: blur the textured corner over [2.5, 4.0).
    gen = api.post("/api/ai/generate", json={"project_id": pid, "prompt": "blur the test pattern",
                                             "start_ts": 2.5, "end_ts": 4.0,
                                             "bounding_box": {"x": 0, "y": 0, "width": 160, "height": 120}})
    assert gen.status_code == 200, gen.text
    job = stack.wait(api, f"/api/job/{gen.json()['job_id']}")
    assert job["status"] == "completed", job
    assert len(job["variants"]) == 3 and all(v["url"] and v["preview_url"] for v in job["variants"])
    variant = job["variants"][1]
    score = api.get(f"/api/variant/{variant['id']}/score", params={"compare_to": "prompt"}).json()
    assert score["variant_id"] == variant["id"]
    assert set(score["score"]) >= {"overall_rating", "details", "fidelity_to_prompt", "visual_quality"}
    assert any(ch.isdigit() for ch in score["score"]["details"])
    assert api.get(f"/api/variant/{variant['id']}/score", params={"compare_to": "original"}).status_code == 200
    accepted = api.post(f"/api/variant/{variant['id']}/accept").json()
    assert accepted["segment"]["source"] == "variant" and accepted["segment"]["variant_id"] == variant["id"]
    timeline = _segments(api, pid)
    assert [s["source"] for s in timeline] == ["graded", "original", "variant", "original"]
    total = sum(s["end_ts"] - s["start_ts"] for s in timeline)
    assert abs(total - 5.0) < 2 / FPS

    # Export: duration = sum of the active segments, frames where they should be.
    exp = api.post("/api/export", json={"project_id": pid, "format": "mp4"}).json()
    assert exp["status"] == "pending" and exp["export_job_id"]
    status = stack.wait(api, f"/api/export/{exp['export_job_id']}")
    assert status["status"] == "completed", status
    assert "attachment" in httpx.head(status["download_url"]).headers.get("content-disposition", "") or \
        "response-content-disposition" in status["download_url"]
    out = Path("/tmp/reelforge-e2e-export.mp4")
    out.write_bytes(httpx.get(status["export_url"]).content)
    with av.open(str(out)) as c:
        assert abs(c.duration / 1e6 - total) <= 1.5 / FPS
        assert len(c.streams.audio) == 1
        frames = {}
        for f in c.decode(video=0):
            frames[round(float(f.pts * f.time_base), 3)] = f.to_ndarray(format="rgb24")
    def at(t: float) -> np.ndarray:
        return frames[min(frames, key=lambda k: abs(k - t))]
    assert _colour_at(at(0.5)).mean() > np.array(COLOURS[2]).mean() + 10  # graded second 2
    assert _near(_colour_at(at(2.2)), 5)      # original [5, 5.5)
    assert _near(_colour_at(at(3.0)), 6)      # the variant keeps colours outside its box
    assert _near(_colour_at(at(4.5)), 7)      # original [7, 8)


def test_editor_validation_and_ownership(stack, colour_video: Path) -> None:
    api = stack.client(stack.register("owner"))
    other = stack.client(stack.register("other"))
    pid = api.post("/api/project", json={"name": "p"}).json()["id"]
    assert api.post("/api/export", json={"project_id": pid, "format": "mp4"}).status_code == 400  # empty
    _upload_video(api, pid, colour_video, "c.mp4")
    seg = _segments(api, pid)[0]
    sid = seg["id"]

    cases = [
        ("post", f"/api/segment/{sid}/split", {"split_ts": "soon"}, 422),
        ("post", f"/api/segment/{sid}/split", {"split_ts": 0.0}, 400),
        ("post", f"/api/segment/{sid}/split", {"split_ts": 99.0}, 400),
        ("post", f"/api/segment/{sid}/trim", {"new_start_ts": 3, "new_end_ts": 2}, 400),
        ("post", f"/api/segment/{sid}/trim", {"new_start_ts": 0, "new_end_ts": 50}, 400),
        ("post", f"/api/segment/{sid}/color-grade", {"brightness": 500}, 422),
        ("post", f"/api/segment/{sid}/grade-preview", {"hue_shift": -181}, 422),
        ("post", f"/api/project/{pid}/preview/frame", {"ts": 99}, 400),
        ("post", f"/api/project/{pid}/preview/frame", {"ts": -1}, 422),
        ("post", f"/api/project/{pid}/preview/strip", {"start": 0, "end": 8, "fps": 30}, 400),
        ("post", f"/api/project/{pid}/preview/strip", {"start": 3, "end": 1, "fps": 1}, 422),
        ("post", "/api/ai/generate", {"project_id": pid, "prompt": "blur", "start_ts": 0, "end_ts": 1,
                                      "bounding_box": {"x": 300, "y": 0, "width": 100, "height": 50}}, 400),
        ("post", "/api/ai/generate", {"project_id": pid, "prompt": "blur", "start_ts": 2, "end_ts": 1,
                                      "bounding_box": {"x": 0, "y": 0, "width": 10, "height": 10}}, 400),
        ("post", "/api/ai/generate", {"project_id": pid, "prompt": "", "start_ts": 0, "end_ts": 1,
                                      "bounding_box": {"x": 0, "y": 0, "width": 10, "height": 10}}, 422),
        ("post", "/api/export", {"project_id": pid, "format": "avi"}, 422),
    ]
    for method, path, body, code in cases:
        resp = getattr(api, method)(path, json=body)
        assert resp.status_code == code, (path, body, resp.status_code, resp.text)
        assert isinstance(resp.json()["detail"], str) and resp.json()["detail"]

    # A prompt the local provider can't do fails the job, listing what it can do.
    gen = api.post("/api/ai/generate", json={"project_id": pid, "prompt": "replace the sky with fireworks",
                                             "start_ts": 0, "end_ts": 1,
                                             "bounding_box": {"x": 0, "y": 0, "width": 100, "height": 100}}).json()
    job = stack.wait(api, f"/api/job/{gen['job_id']}")
    assert job["status"] == "failed" and "blur" in job["error"] and "pixelate" in job["error"]

    exp = api.post("/api/export", json={"project_id": pid, "format": "mp4"}).json()["export_job_id"]
    gen_ok = api.post("/api/ai/generate", json={"project_id": pid, "prompt": "pixelate", "start_ts": 0, "end_ts": 1,
                                                "bounding_box": {"x": 0, "y": 0, "width": 160, "height": 120},
                                                "variants": 1}).json()["job_id"]
    variant_id = stack.wait(api, f"/api/job/{gen_ok}")["variants"][0]["id"]
    for path in (f"/api/project/{pid}", f"/api/job/{gen_ok}", f"/api/export/{exp}",
                 f"/api/variant/{variant_id}/score"):
        assert other.get(path).status_code == 404, path
    for path, body in ((f"/api/segment/{sid}/split", {"split_ts": 1.0}), (f"/api/variant/{variant_id}/accept", None),
                       (f"/api/project/{pid}/preview/frame", {"ts": 1.0}),
                       ("/api/export", {"project_id": pid, "format": "mp4"})):
        assert other.post(path, json=body).status_code == 404, path
    assert other.delete(f"/api/segment/{sid}").status_code == 404
    assert api.get(f"/api/export/{gen_ok}").status_code == 404  # a job, but not an export


def test_deleting_a_project_while_a_segment_grades(stack, colour_video: Path) -> None:
    """The grade finishes after its project is gone: the job says so and leaves no file."""
    from reelforge import blobs
    from reelforge.blobs import Blobs

    api = stack.client(stack.register("deleter"))
    pid = api.post("/api/project", json={"name": "short-lived"}).json()["id"]
    _upload_video(api, pid, colour_video, "c.mp4")
    graded = api.post(f"/api/segment/{_segments(api, pid)[0]['id']}/color-grade", json={"brightness": 30})
    assert graded.status_code == 200
    assert api.delete(f"/api/project/{pid}").status_code == 204
    job = stack.wait(api, f"/api/job/{graded.json()['job_id']}")
    assert job["status"] == "failed", job
    assert job["error"] == "the project was deleted while this job ran"
    assert list(Blobs().list_keys(blobs.project_prefix(pid))) == []


def test_grading_keeps_the_segment_length(stack, colour_video: Path) -> None:
    """Half a second at 25 fps is 12.5 frames: the graded file has 13, the timeline keeps 0.5 s."""
    api = stack.client(stack.register("lengths"))
    pid = api.post("/api/project", json={"name": "p"}).json()["id"]
    _upload_video(api, pid, colour_video, "c.mp4")
    sid = _segments(api, pid)[0]["id"]
    assert api.post(f"/api/segment/{sid}/trim", json={"new_start_ts": 1.0, "new_end_ts": 1.5}).status_code == 200
    graded = api.post(f"/api/segment/{sid}/color-grade", json={"contrast": 20}).json()
    assert stack.wait(api, f"/api/job/{graded['job_id']}")["status"] == "completed"
    (seg,) = _segments(api, pid)
    assert (seg["start_ts"], seg["end_ts"]) == (0.0, 0.5)
