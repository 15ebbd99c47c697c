"""The `edit` and `export` state machines' steps (one function per Task): grading, the
project video ingest, AI region edits with variants, the timeline export, failure."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from reelforge import blobs, jobs
from reelforge.blobs import Blobs
from reelforge.editor import timeline
from reelforge.editor.service import PROJECT_DELETED, artifact_key
from reelforge.errors import InvalidMediaError, ProviderError
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, new_id, now_iso
from reelforge.workflow import provider_key, readable_error


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
        key = artifact_key(event["project_id"], f"segments/{event['segment_id']}.mp4")
        Blobs().put_file(key, graded.path, "video/mp4")
    # The file holds whole frames (0.5 s at 25 fps comes back as 13 frames, 0.52 s); the
    # timeline keeps the length that was graded, so grading never makes the edit longer.
    length = min(graded.duration, float(event["end"]) - float(event["start"]))
    try:
        timeline.set_status(event["project_id"], event["segment_id"],
                            {"status": timeline.READY, "media_key": key, "end_ts": length,
                             "bound_end": graded.duration})
    except ConditionFailed:  # the project was deleted while this rendered
        Blobs().delete(key)
        jobs.fail(job_id, PROJECT_DELETED)
        return {"segment_id": event["segment_id"]}
    jobs.complete(job_id, {"segment_id": event["segment_id"], "media_key": key})
    return {"segment_id": event["segment_id"]}


def ingest_project_video_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.ingest import fetch_to_bucket
    from reelforge.media.probe import probe

    job_id, pid = event["job_id"], event["project_id"]
    jobs.set_running(job_id, message="Fetching the project video")
    key = fetch_to_bucket(event["url"], artifact_key(pid, "source/"),
                          on_progress=lambda f: jobs.progress(job_id, stage="ingest", fraction=0.9 * f,
                                                              message="Downloading the video"))
    info = probe(Blobs().presign_get(key))
    if not info.has_video:
        raise InvalidMediaError("the linked file has no video stream")
    project = projects.get(event["owner"], pid)
    timeline.init_timeline(project, key, info.duration, info.width, info.height)
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
    from reelforge.editor.region.render import parse_intent

    choice = event["provider"]
    if choice["name"] == "gemini":
        from reelforge.editor.region.gemini import GeminiRegionProvider

        s = get_settings()
        key = provider_key(choice["name"], choice.get("sealed_key"))
        if not key:
            raise ProviderError("Gemini provider needs an API key (x-api-key header or GEMINI_API_KEY)")
        return GeminiRegionProvider(key, model=s.gemini_model, base_url=s.gemini_base_url).interpret(event["prompt"])
    return parse_intent(event["prompt"])


def _window_pieces(project: dict[str, Any], start: float, end: float) -> list[Any]:
    from reelforge.media.timeline import TimelinePiece

    out = []
    for p in timeline.placed(project):
        lo, hi = max(start, p.timeline_start), min(end, p.timeline_end)
        if hi - lo > 1e-3:
            base = float(p.segment["start_ts"]) - p.timeline_start
            out.append(TimelinePiece(source=timeline.media_url(p.segment), start=base + lo, end=base + hi))
    return out


def render_variant_step(event: dict[str, Any]) -> dict[str, Any]:
    from reelforge.editor.region.render import BoundingBox, RegionIntent, render_variants
    from reelforge.media.probe import probe

    job_id, pid = event["job_id"], event["project_id"]
    index = int(event["variant"]["index"])
    vid = new_id()
    window = Blobs().presign_get(event["window_key"])
    with tempfile.TemporaryDirectory(prefix="variant-") as tmp:
        (variant,) = render_variants(window, Path(tmp), start=0.0, end=probe(window).duration,
                                     box=BoundingBox(**event["box"]), intent=RegionIntent(**event["intent"]),
                                     count=int(event["count"]), preset=get_settings().render_preset, only=index)
        video_key = artifact_key(pid, f"variants/{vid}.mp4")
        preview_key = artifact_key(pid, f"variants/{vid}.jpg")
        Blobs().put_file(video_key, variant.path, "video/mp4")
        Blobs().put_file(preview_key, variant.preview_jpg, "image/jpeg")
    done = jobs.count_done(job_id, "variants_done", index)
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


def export_timeline_step(event: dict[str, Any]) -> dict[str, Any]:
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
        key = artifact_key(pid, f"exports/{job_id}.mp4")
        store.put_file(key, out.path, "video/mp4")
    jobs.complete(job_id, {"export_key": key, "duration": out.duration, "width": out.width,
                           "height": out.height})
    return {"export_key": key}


def mark_failed_step(event: dict[str, Any]) -> dict[str, Any]:
    message = readable_error(event.get("error") or {})
    gone = bool(event.get("project_id")) and not _project_exists(event["project_id"])
    if gone:  # whatever failed (its source was deleted with it), this is why
        message = PROJECT_DELETED
    jobs.fail(event["job_id"], message)
    if event.get("operation") == "grade" and event.get("segment_id") and not gone:
        timeline.set_status(event["project_id"], event["segment_id"], {"status": timeline.FAILED, "error": message})
    return {"error": message}


def _project_exists(project_id: str) -> bool:
    try:
        Table().get(Keys.project(project_id))
    except NotFound:
        return False
    return True


