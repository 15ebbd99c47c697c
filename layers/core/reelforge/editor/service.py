"""The editor's long and short operations: previews (synchronous, in the API), and the
`edit` / `export` state machines' steps: grading, AI region edits with variants, the
project video ingest, and the timeline export.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Literal

from reelforge import aws, blobs, jobs, keyseal, projects, segments
from reelforge.blobs import Blobs
from reelforge.errors import InvalidMediaError, ProviderError
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, new_id, now_iso

MAX_STRIP_FRAMES = 120
PROJECT_DELETED = "the project was deleted while this job ran"
PREVIEW_WIDTH = 640


def _media_url(seg: dict[str, Any]) -> str:
    if seg.get("status") != segments.READY or not seg.get("media_key"):
        raise segments.EditError("the segment is still rendering; try again when its status is ready")
    return Blobs().presign_get(seg["media_key"])


def _preview_key(project_id: str, name: str) -> str:
    return f"{blobs.PREVIEWS_PREFIX}{project_id}/{new_id()}-{name}"


def _upload_jpeg(project_id: str, path: Path) -> str:
    key = _preview_key(project_id, path.name)
    Blobs().put_file(key, path, "image/jpeg")
    return Blobs().presign_get(key)


# --- previews (synchronous: a frame is well inside API Gateway's 29 s) ---------------------


def preview_frame(owner: str, project_id: str, ts: float) -> dict[str, Any]:
    from reelforge.media.frames import extract_frame

    project = projects.get(owner, project_id)
    placed, media_t = segments.locate(project, ts)
    with tempfile.TemporaryDirectory(prefix="frame-") as tmp:
        jpg = extract_frame(_media_url(placed.segment), media_t, Path(tmp) / "frame.jpg", width=PREVIEW_WIDTH)
        return {"frame_url": _upload_jpeg(project_id, jpg), "timestamp": ts}


def preview_strip(owner: str, project_id: str, start: float, end: float, fps: float) -> dict[str, Any]:
    from reelforge.media.frames import extract_frames

    project = projects.get(owner, project_id)
    span = (end - start) * fps + 1e-9  # checked as a float first: int() of a huge one overflows
    if not span < MAX_STRIP_FRAMES:
        raise segments.EditError(f"a strip has at most {MAX_STRIP_FRAMES} frames; this range at "
                                 f"{fps:g} fps needs more (lower fps or shorten the range)")
    count = int(span) + 1
    total = segments.duration(project)
    if end > total + 1e-6:
        raise segments.EditError(f"end {end} is past the end of the timeline ({total:.3f} s)")
    times = [round(start + i / fps, 6) for i in range(count)]
    # Group consecutive times by segment: one ffmpeg call per segment touched.
    groups: list[tuple[dict[str, Any], list[tuple[float, float]]]] = []
    for t in times:
        placed, media_t = segments.locate(project, t)
        if not groups or groups[-1][0]["id"] != placed.segment["id"]:
            groups.append((placed.segment, []))
        groups[-1][1].append((t, media_t))
    frames = []
    with tempfile.TemporaryDirectory(prefix="strip-") as tmp:
        for n, (seg, pairs) in enumerate(groups):
            paths = extract_frames(_media_url(seg), [m for _, m in pairs], Path(tmp) / f"g{n}",
                                   width=PREVIEW_WIDTH // 2)
            for (t, _), path in zip(pairs, paths, strict=True):
                frames.append({"frame_url": _upload_jpeg(project_id, path), "timestamp": t})
    return {"frames": frames}


def grade_preview(owner: str, segment_id: str, params: Any) -> dict[str, Any]:
    from reelforge.media.grade import grade_frame

    seg = segments.get(owner, segment_id)
    mid = (float(seg["start_ts"]) + float(seg["end_ts"])) / 2
    with tempfile.TemporaryDirectory(prefix="grade-preview-") as tmp:
        jpg = grade_frame(_media_url(seg), mid, Path(tmp) / "graded.jpg", params, width=PREVIEW_WIDTH)
        return {"preview_frame_url": _upload_jpeg(seg["project_id"], jpg), "timestamp": mid}


# --- submitting edit and export jobs ------------------------------------------------------


def _start(machine_arn: str, job: dict[str, Any], payload: dict[str, Any]) -> None:
    arn = aws.client("stepfunctions").start_execution(
        stateMachineArn=machine_arn, name=job["id"], input=json.dumps({"job_id": job["id"], **payload})
    )["executionArn"]
    jobs.set_fields(job["id"], {"execution_arn": arn})


def submit_grade(owner: str, segment_id: str, params: Any) -> dict[str, Any]:
    """Replace the segment with a graded copy now (status rendering) and render it in the background."""
    seg, project, _ = segments.active(owner, segment_id)
    segments.require_ready(seg)  # checked before the job exists, so a refusal leaves none behind
    graded = segments.new_segment(project, media_key=None, start_ts=0.0,
                                  end_ts=float(seg["end_ts"]) - float(seg["start_ts"]), source="graded",
                                  status=segments.RENDERING, width=seg.get("width"), height=seg.get("height"))
    job = jobs.create(owner, "grade", project_id=project["id"],
                      params={"segment_id": graded["id"], "from_segment": seg["id"]})
    graded["job_id"] = job["id"]
    try:
        segments.replace(owner, segment_id, graded)
    except (segments.Conflict, segments.EditError) as exc:  # a concurrent edit won
        jobs.fail(job["id"], str(exc))
        raise
    _start(get_settings().edit_state_machine_arn, job, {
        "operation": "grade", "project_id": project["id"], "segment_id": graded["id"],
        "source_key": seg["media_key"], "start": seg["start_ts"], "end": seg["end_ts"],
        "params": params.model_dump()})
    return {"segment_id": graded["id"], "graded_url": None, "status": segments.RENDERING, "job_id": job["id"],
            "replaces": seg["id"]}


def submit_project_ingest(owner: str, project: dict[str, Any]) -> dict[str, Any]:
    job = jobs.create(owner, "ingest", project_id=project["id"], params={"video_url": project["video_url"]})
    _start(get_settings().edit_state_machine_arn, job, {
        "operation": "ingest", "project_id": project["id"], "owner": owner, "url": project["video_url"]})
    return job


def submit_region_edit(owner: str, body: Any, box: Any, provider: str, api_key: str | None) -> dict[str, Any]:
    project = projects.get(owner, body.project_id)
    total = segments.duration(project)
    if total <= 0:
        raise segments.EditError("the project has no video on its timeline yet")
    if not (0 <= body.start_ts < body.end_ts <= total + 1e-6):
        raise segments.EditError(f"need 0 <= start_ts < end_ts <= {total:.3f} (the timeline's length)")
    for p in segments.placed(project):  # the edit renders from these segments' media
        if p.timeline_start < body.end_ts and p.timeline_end > body.start_ts:
            segments.require_ready(p.segment)
    try:
        box.check_inside(int(project.get("frame_width") or 0), int(project.get("frame_height") or 0))
    except ValueError as exc:
        raise segments.EditError(str(exc)) from exc
    job = jobs.create(owner, "edit", project_id=project["id"],
                      params={"prompt": body.prompt, "start_ts": body.start_ts, "end_ts": body.end_ts,
                              "bounding_box": box.model_dump(), "provider": provider})
    _start(get_settings().edit_state_machine_arn, job, {
        "operation": "region", "project_id": project["id"], "owner": owner, "prompt": body.prompt,
        "start": body.start_ts, "end": body.end_ts, "box": box.model_dump(), "count": body.variants,
        "provider": {"name": provider, "sealed_key": keyseal.seal(api_key) if api_key else None}})
    return job


def submit_export(owner: str, project_id: str) -> dict[str, Any]:
    project = projects.get(owner, project_id)
    items = segments.placed(project)
    if not items:
        raise segments.EditError("the project's timeline is empty: nothing to export")
    if any(p.segment.get("status") != segments.READY for p in items):
        raise segments.EditError("a segment is still rendering; export when every segment is ready")
    job = jobs.create(owner, "export", project_id=project_id,
                      params={"timeline_version": project.get("timeline_version")})
    pieces = [{"key": p.segment["media_key"], "start": p.segment["start_ts"], "end": p.segment["end_ts"]}
              for p in items]
    _start(get_settings().export_state_machine_arn, job, {"project_id": project_id, "pieces": pieces})
    return job


# --- steps ----------------------------------------------------------------------------------


def _project_key(project_id: str, name: str) -> str:
    return f"{blobs.project_prefix(project_id)}{name}"


def grade_segment_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.grade import GradeParams, grade_video

    job_id = event["job_id"]
    jobs.set_running(job_id, message="Grading")
    s = get_settings()
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        graded = grade_video(Blobs().presign_get(event["source_key"]), Path(tmp) / "graded.mp4",
                             GradeParams(**event["params"]), start=float(event["start"]),
                             end=float(event["end"]), preset=s.render_preset,
                             on_progress=lambda f: jobs.progress(job_id, stage="grade", fraction=0.9 * f,
                                                                 message="Rendering the graded segment"))
        key = _project_key(event["project_id"], f"segments/{event['segment_id']}.mp4")
        Blobs().put_file(key, graded.path, "video/mp4")
    # The file holds whole frames (0.5 s at 25 fps comes back as 13 frames, 0.52 s); the
    # timeline keeps the length that was graded, so grading never makes the edit longer.
    length = min(graded.duration, float(event["end"]) - float(event["start"]))
    try:
        segments.set_status(event["project_id"], event["segment_id"],
                            {"status": segments.READY, "media_key": key, "end_ts": length,
                             "bound_end": graded.duration})
    except ConditionFailed:  # the project was deleted while this rendered
        Blobs().delete(key)
        jobs.fail(job_id, PROJECT_DELETED)
        return {"segment_id": event["segment_id"]}
    jobs.complete(job_id, {"segment_id": event["segment_id"], "media_key": key})
    return {"segment_id": event["segment_id"]}


def ingest_project_video_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge import ingest as fetcher
    from reelforge.media.probe import probe

    job_id, pid = event["job_id"], event["project_id"]
    jobs.set_running(job_id, message="Fetching the project video")
    s = get_settings()
    policy = fetcher.IngestPolicy(max_bytes=s.max_file_size_bytes, allow_hosts=frozenset(s.ingest_allow_host_list))
    with tempfile.TemporaryDirectory(prefix="project-ingest-") as tmp:
        fetched = fetcher.fetch(event["url"], Path(tmp), policy,
                                on_progress=lambda f: jobs.progress(job_id, stage="ingest", fraction=0.9 * f,
                                                                    message="Downloading the video"))
        key = _project_key(pid, f"source/{blobs.safe_file_name(fetched.path.name, default='source.mp4')}")
        Blobs().put_file(key, fetched.path, fetched.content_type)
    info = probe(Blobs().presign_get(key))
    if not info.has_video:
        raise InvalidMediaError("the linked file has no video stream")
    project = projects.get(event["owner"], pid)
    segments.init_timeline(project, key, info.duration, info.width, info.height)
    jobs.complete(job_id, {"media_key": key, "media": info.model_dump()})
    return {"media_key": key}


def prepare_region_edit_step(event: dict[str, Any]) -> dict[str, Any]:
    """Render the timeline window once and decide what the prompt asks for."""
    from reelforge.media.timeline import render_timeline

    job_id, pid = event["job_id"], event["project_id"]
    jobs.set_running(job_id, message="Preparing the region edit")
    intent = _intent(event)
    project = projects.get(event["owner"], pid)
    pieces = _window_pieces(project, float(event["start"]), float(event["end"]))
    with tempfile.TemporaryDirectory(prefix="window-") as tmp:
        window = render_timeline(pieces, Path(tmp) / "window.mp4", preset=get_settings().render_preset)
        key = f"{blobs.job_prefix(job_id)}window.mp4"
        Blobs().put_file(key, window.path, "video/mp4")
    jobs.progress(job_id, stage="variants", fraction=0.2, message=f"Rendering variants: {intent.describe()}")
    return {"window_key": key, "intent": intent.model_dump(),
            "variants": [{"index": i} for i in range(int(event.get("count") or 3))]}


def _intent(event: dict[str, Any]) -> Any:
    from reelforge.ai.region import parse_intent

    choice = event["provider"]
    if choice["name"] == "gemini":
        from reelforge.ai.region_gemini import GeminiRegionProvider

        s = get_settings()
        key = _unsealed(choice.get("sealed_key")) or (
            s.gemini_api_key.get_secret_value() if s.gemini_api_key else None)
        if not key:
            raise ProviderError("Gemini provider needs an API key (x-api-key header or GEMINI_API_KEY)")
        return GeminiRegionProvider(key, model=s.gemini_model, base_url=s.gemini_base_url).interpret(event["prompt"])
    return parse_intent(event["prompt"])


def _unsealed(sealed: str | None) -> str | None:
    if not sealed:
        return None
    try:
        return keyseal.unseal(sealed)
    except keyseal.SealError as exc:
        raise ProviderError(str(exc)) from exc


def _window_pieces(project: dict[str, Any], start: float, end: float) -> list[Any]:
    from reelforge.media.timeline import TimelinePiece

    out = []
    for p in segments.placed(project):
        lo, hi = max(start, p.timeline_start), min(end, p.timeline_end)
        if hi - lo > 1e-3:
            base = float(p.segment["start_ts"]) - p.timeline_start
            out.append(TimelinePiece(source=_media_url(p.segment), start=base + lo, end=base + hi))
    return out


def render_variant_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.ai.region import BoundingBox, RegionIntent, render_variants
    from reelforge.media.probe import probe

    job_id, pid = event["job_id"], event["project_id"]
    index = int(event["variant"]["index"])
    vid = new_id()
    window = Blobs().presign_get(event["window_key"])
    with tempfile.TemporaryDirectory(prefix="variant-") as tmp:
        (variant,) = render_variants(window, Path(tmp), start=0.0, end=probe(window).duration,
                                     box=BoundingBox(**event["box"]), intent=RegionIntent(**event["intent"]),
                                     count=int(event["count"]), preset=get_settings().render_preset, only=index)
        video_key = _project_key(pid, f"variants/{vid}.mp4")
        preview_key = _project_key(pid, f"variants/{vid}.jpg")
        Blobs().put_file(video_key, variant.path, "video/mp4")
        Blobs().put_file(preview_key, variant.preview_jpg, "image/jpeg")
    done = jobs.increment(job_id, "variants_done")
    jobs.progress(job_id, stage="variants", fraction=0.2 + 0.75 * done / int(event["count"]),
                  message=f"Rendered variant {done}/{event['count']}")
    return {"id": vid, "index": index, "video_key": video_key, "preview_key": preview_key,
            "label": variant.label, "strength": variant.strength}


def finish_region_edit_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id, pid = event["job_id"], event["project_id"]
    job = jobs.get(job_id)
    variants = sorted(event["variants"], key=lambda v: v["index"])
    table = Table()
    for v in variants:
        item = {**Keys.variant(pid, v["id"]), "type": "variant", "id": v["id"], "project_id": pid,
                "owner": job["owner"], "job_id": job_id, "video_key": v["video_key"],
                "preview_key": v["preview_key"], "label": v["label"], "strength": v["strength"],
                "prompt": event["prompt"], "intent": event["intent"], "box": event["box"],
                "start_ts": float(event["start"]), "end_ts": float(event["end"]),
                "window_key": event["window_key"], "provider": event["provider"]["name"],
                "created_at": now_iso()}
        table.transact_put_new([item, projects.child_ref(item)])
    jobs.complete(job_id, {"variants": [{"id": v["id"], "label": v["label"]} for v in variants]},
                  message=f"{len(variants)} variants ready")
    return {"variant_count": len(variants)}


def export_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.media.timeline import TimelinePiece, render_timeline

    job_id, pid = event["job_id"], event["project_id"]
    jobs.set_running(job_id, message="Rendering the timeline")
    store = Blobs()
    pieces = [TimelinePiece(source=store.presign_get(p["key"]), start=float(p["start"]), end=float(p["end"]))
              for p in event["pieces"]]
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        out = render_timeline(pieces, Path(tmp) / "export.mp4", preset=get_settings().render_preset,
                              on_progress=lambda f: jobs.progress(job_id, stage="export", fraction=0.95 * f,
                                                                  message="Rendering the timeline"))
        key = _project_key(pid, f"exports/{job_id}.mp4")
        store.put_file(key, out.path, "video/mp4")
    jobs.complete(job_id, {"export_key": key, "duration": out.duration, "width": out.width,
                           "height": out.height})
    return {"export_key": key}


def mark_edit_failed(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.process import readable_error

    message = readable_error(event.get("error") or {})
    gone = bool(event.get("project_id")) and not _project_exists(event["project_id"])
    if gone:  # whatever failed (its source was deleted with it), this is why
        message = PROJECT_DELETED
    jobs.fail(event["job_id"], message)
    if event.get("operation") == "grade" and event.get("segment_id") and not gone:
        segments.set_status(event["project_id"], event["segment_id"], {"status": segments.FAILED, "error": message})
    return {"error": message}


def _project_exists(project_id: str) -> bool:
    try:
        Table().get(Keys.project(project_id))
    except NotFound:
        return False
    return True


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
    seg = segments.new_segment(project, media_key=variant["video_key"], start_ts=0.0, end_ts=info.duration,
                               source="variant", variant_id=variant_id, width=info.width, height=info.height)
    placed = segments.place_range(owner, project["id"], float(variant["start_ts"]), float(variant["end_ts"]), seg)
    Table().update(Keys.variant(project["id"], variant_id), {"accepted_at": now_iso(), "segment_id": seg["id"]})
    return {"accepted": True, "variant_id": variant_id, "segment": placed}


def score_variant(owner: str, variant_id: str, compare_to: Literal["prompt", "original"],
                  api_key: str | None) -> dict[str, Any]:
    from reelforge.ai.region import BoundingBox, RegionIntent
    from reelforge.ai.scoring import score_gemini, score_local
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
