"""The editor surface (seed 000): previews (synchronous, in the API), submitting grade,
region-edit, ingest and export jobs, variants, and how the editor's jobs and projects look.
The `edit` and `export` state machines' steps are in steps.py; the timeline in timeline.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from reelforge import blobs, jobs, keyseal
from reelforge.blobs import Blobs
from reelforge.editor import timeline
from reelforge.editor.timeline import EditError
from reelforge.models import MediaInfo
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import Keys, NotFound, Table, new_id, now_iso
from reelforge.workflow import start_execution

MAX_STRIP_FRAMES = 120
PROJECT_DELETED = "the project was deleted while this job ran"
PREVIEW_WIDTH = 640


def artifact_key(project_id: str, name: str) -> str:
    """Where the project's rendered segments, variants and exports live."""
    return f"{blobs.project_prefix(project_id)}{name}"


def _upload_jpeg(project_id: str, path: Path) -> str:
    key = f"{blobs.PREVIEWS_PREFIX}{project_id}/{new_id()}-{path.name}"
    Blobs().put_file(key, path, "image/jpeg")
    return Blobs().presign_get(key)


# --- what the editor adds to the shared project ----------------------------------------------


@projects.adds_view_fields
def project_fields(project: dict[str, Any]) -> dict[str, Any]:
    """The active segments in order (`order_index` dense) and the timeline's length."""
    segments = timeline.timeline_view(project)
    return {"segments": segments,
            "duration": round(sum(s["end_ts"] - s["start_ts"] for s in segments), 6)}


@projects.on_video_ready
def start_timeline(project: dict[str, Any], key: str, media: MediaInfo) -> None:
    """The project's first video becomes its timeline (one segment covering it)."""
    timeline.init_timeline(project, key, media.duration, media.width, media.height)


# --- previews (synchronous: a frame is well inside API Gateway's 29 s) ---------------------


def preview_frame(owner: str, project_id: str, ts: float) -> dict[str, Any]:
    from reelforge.media.frames import extract_frame

    project = projects.get(owner, project_id)
    placed, media_t = timeline.locate(project, ts)
    with tempfile.TemporaryDirectory(prefix="frame-") as tmp:
        jpg = extract_frame(timeline.media_url(placed.segment), media_t, Path(tmp) / "frame.jpg", width=PREVIEW_WIDTH)
        return {"frame_url": _upload_jpeg(project_id, jpg), "timestamp": ts}


def preview_strip(owner: str, project_id: str, start: float, end: float, fps: float) -> dict[str, Any]:
    from reelforge.media.frames import extract_frames

    project = projects.get(owner, project_id)
    span = (end - start) * fps + 1e-9  # checked as a float first: int() of a huge one overflows
    if not span < MAX_STRIP_FRAMES:
        raise EditError(f"a strip has at most {MAX_STRIP_FRAMES} frames; this range at "
                                 f"{fps:g} fps needs more (lower fps or shorten the range)")
    count = int(span) + 1
    total = timeline.duration(project)
    if end > total + 1e-6:
        raise EditError(f"end {end} is past the end of the timeline ({total:.3f} s)")
    times = [round(start + i / fps, 6) for i in range(count)]
    # Group consecutive times by segment: one ffmpeg call per segment touched.
    groups: list[tuple[dict[str, Any], list[tuple[float, float]]]] = []
    for t in times:
        placed, media_t = timeline.locate(project, t)
        if not groups or groups[-1][0]["id"] != placed.segment["id"]:
            groups.append((placed.segment, []))
        groups[-1][1].append((t, media_t))
    frames = []
    with tempfile.TemporaryDirectory(prefix="strip-") as tmp:
        for n, (seg, pairs) in enumerate(groups):
            paths = extract_frames(timeline.media_url(seg), [m for _, m in pairs], Path(tmp) / f"g{n}",
                                   width=PREVIEW_WIDTH // 2)
            for (t, _), path in zip(pairs, paths, strict=True):
                frames.append({"frame_url": _upload_jpeg(project_id, path), "timestamp": t})
    return {"frames": frames}


def grade_preview(owner: str, segment_id: str, params: Any) -> dict[str, Any]:
    from reelforge.media.grade import grade_frame

    seg = timeline.get(owner, segment_id)
    mid = (float(seg["start_ts"]) + float(seg["end_ts"])) / 2
    with tempfile.TemporaryDirectory(prefix="grade-preview-") as tmp:
        jpg = grade_frame(timeline.media_url(seg), mid, Path(tmp) / "graded.jpg", params, width=PREVIEW_WIDTH)
        return {"preview_frame_url": _upload_jpeg(seg["project_id"], jpg), "timestamp": mid}


# --- submitting edit and export jobs ------------------------------------------------------


def submit_grade(owner: str, segment_id: str, params: Any) -> dict[str, Any]:
    """Replace the segment with a graded copy now (status rendering) and render it in the background."""
    seg, project, _ = timeline.active(owner, segment_id)
    timeline.require_ready(seg)  # checked before the job exists, so a refusal leaves none behind
    graded = timeline.new_segment(project, media_key=None, start_ts=0.0,
                                  end_ts=float(seg["end_ts"]) - float(seg["start_ts"]), source="graded",
                                  status=timeline.RENDERING, width=seg.get("width"), height=seg.get("height"))
    job = jobs.create(owner, "grade", project_id=project["id"],
                      params={"segment_id": graded["id"], "from_segment": seg["id"]})
    graded["job_id"] = job["id"]
    try:
        timeline.replace(owner, segment_id, graded)
    except (timeline.Conflict, EditError) as exc:  # a concurrent edit won
        jobs.fail(job["id"], str(exc))
        raise
    start_execution(get_settings().edit_state_machine_arn, job["id"], {
        "operation": "grade", "project_id": project["id"], "segment_id": graded["id"],
        "source_key": seg["media_key"], "start": seg["start_ts"], "end": seg["end_ts"],
        "params": params.model_dump()})
    return {"segment_id": graded["id"], "graded_url": None, "status": timeline.RENDERING, "job_id": job["id"],
            "replaces": seg["id"]}


@projects.ingests_video_url
def submit_project_ingest(owner: str, project: dict[str, Any]) -> dict[str, Any]:
    job = jobs.create(owner, "ingest", project_id=project["id"], params={"video_url": project["video_url"]})
    start_execution(get_settings().edit_state_machine_arn, job["id"], {
        "operation": "ingest", "project_id": project["id"], "segment_id": None, "owner": owner,
        "url": project["video_url"]})
    return job


def submit_region_edit(owner: str, body: Any, box: Any, provider: str, api_key: str | None) -> dict[str, Any]:
    project = projects.get(owner, body.project_id)
    total = timeline.duration(project)
    if total <= 0:
        raise EditError("the project has no video on its timeline yet")
    if not (0 <= body.start_ts < body.end_ts <= total + 1e-6):
        raise EditError(f"need 0 <= start_ts < end_ts <= {total:.3f} (the timeline's length)")
    for p in timeline.placed(project):  # the edit renders from these segments' media
        if p.timeline_start < body.end_ts and p.timeline_end > body.start_ts:
            timeline.require_ready(p.segment)
    try:
        box.check_inside(int(project.get("frame_width") or 0), int(project.get("frame_height") or 0))
    except ValueError as exc:
        raise EditError(str(exc)) from exc
    job = jobs.create(owner, "edit", project_id=project["id"],
                      params={"prompt": body.prompt, "start_ts": body.start_ts, "end_ts": body.end_ts,
                              "bounding_box": box.model_dump(), "provider": provider})
    start_execution(get_settings().edit_state_machine_arn, job["id"], {
        "operation": "region", "project_id": project["id"], "segment_id": None, "owner": owner, "prompt": body.prompt,
        "start": body.start_ts, "end": body.end_ts, "box": box.model_dump(), "count": body.variants,
        "provider": {"name": provider, "sealed_key": keyseal.seal(api_key) if api_key else None}})
    return job


def submit_export(owner: str, project_id: str) -> dict[str, Any]:
    project = projects.get(owner, project_id)
    items = timeline.placed(project)
    if not items:
        raise EditError("the project's timeline is empty: nothing to export")
    if any(p.segment.get("status") != timeline.READY for p in items):
        raise EditError("a segment is still rendering; export when every segment is ready")
    job = jobs.create(owner, "export", project_id=project_id,
                      params={"timeline_version": project.get("timeline_version")})
    pieces = [{"key": p.segment["media_key"], "start": p.segment["start_ts"], "end": p.segment["end_ts"]}
              for p in items]
    start_execution(get_settings().export_state_machine_arn, job["id"], {"project_id": project_id, "pieces": pieces})
    return job


# --- variants -----------------------------------------------------------------------------


def get_variant(owner: str, variant_id: str) -> dict[str, Any]:
    return projects.get_child(owner, "variant", variant_id)


def variant_views(job: dict[str, Any]) -> list[dict[str, Any]]:
    store = Blobs()
    out = []
    for v in (job.get("result") or {}).get("variants", []):
        try:
            item = Table().get(Keys.variant(job["project_id"], v["id"]))
        except NotFound:
            continue
        out.append({"id": item["id"], "url": store.presign_get(item["video_key"]),
                    "preview_url": store.presign_get(item["preview_key"]), "label": item["label"]})
    return out


def accept_variant(owner: str, variant_id: str) -> dict[str, Any]:
    from reelforge.media.probe import probe

    variant = get_variant(owner, variant_id)
    project = projects.get(owner, variant["project_id"])
    info = probe(Blobs().presign_get(variant["video_key"]))
    seg = timeline.new_segment(project, media_key=variant["video_key"], start_ts=0.0, end_ts=info.duration,
                               source="variant", variant_id=variant_id, width=info.width, height=info.height)
    placed = timeline.place_range(owner, project["id"], float(variant["start_ts"]), float(variant["end_ts"]), seg)
    Table().update(Keys.variant(project["id"], variant_id), {"accepted_at": now_iso(), "segment_id": seg["id"]})
    return {"accepted": True, "variant_id": variant_id, "segment": placed}


def score_variant(owner: str, variant_id: str, compare_to: Literal["prompt", "original"],
                  api_key: str | None) -> dict[str, Any]:
    from reelforge.editor.region.render import BoundingBox, RegionIntent
    from reelforge.editor.scoring import score_gemini, score_local
    from reelforge.media.probe import probe

    variant = get_variant(owner, variant_id)
    cache_field = f"score_{compare_to}_{'gemini' if api_key else 'local'}"
    if variant.get(cache_field):
        return {"variant_id": variant_id, "score": variant[cache_field]}
    s = get_settings()
    store = Blobs()
    original, edited = store.presign_get(variant["window_key"]), store.presign_get(variant["video_key"])
    common = {"original": original, "variant": edited, "box": BoundingBox(**variant["box"]), "start": 0.0,
              "end": probe(edited).duration, "prompt": variant["prompt"], "compare_to": compare_to}
    if api_key:
        result = score_gemini(api_key, model=s.gemini_model, base_url=s.gemini_base_url, **common)
    else:
        result = score_local(intent=RegionIntent(**variant["intent"]), **common)
    scored = result.model_dump()
    Table().update(Keys.variant(variant["project_id"], variant_id), {cache_field: scored})
    return {"variant_id": variant_id, "score": scored}


@jobs.presents("edit")
def present_region_edit(job: dict[str, Any]) -> dict[str, Any]:
    return {"variants": variant_views(job)}


@jobs.presents("grade")
def present_grade(job: dict[str, Any]) -> dict[str, Any]:
    if job["status"] != jobs.COMPLETED:
        return {}
    return {"segment_id": job["result"]["segment_id"],
            "graded_url": Blobs().presign_get(job["result"]["media_key"])}


def export_view(job: dict[str, Any]) -> dict[str, Any]:
    status = {"queued": "pending"}.get(job["status"], job["status"])
    out = {"export_job_id": job["id"], "status": status, "export_url": None, "download_url": None,
           "error": job.get("error"), "progress": round(100 * float(job.get("progress") or 0))}
    result = job.get("result") or {}
    if job["status"] == jobs.COMPLETED and result.get("export_key"):
        store = Blobs()
        out["export_url"] = store.presign_get(result["export_key"], content_type="video/mp4")
        out["download_url"] = store.presign_get(result["export_key"], download_name=f"export-{job['id']}.mp4")
        out["duration"] = result.get("duration")
    return out
