"""The works state machine's steps (statemachines/works.asl.json).

`task` says what the job does:
- `analyze`: the reference video -> AnalysisResult (saved on the work when the job has one);
- `scenario`: a brief -> scenes (saved on the work, each with a new stable id);
- `image`: one picture (POST /api/generate/image);
- `export`: the work's timeline rendered in one encode (an `export` job, POST /api/export);
- `video` and `scenes`: a Map over scene items, each image (scenes only) -> start the video
  -> (Wait -> poll)* -> done. A provider's long-running operation is polled by the state
  machine's Wait loop, never by a sleeping Lambda; the local provider finishes in `start`.

A scene item fails on its own (`scene_failed` marks it `error` and the Map goes on); the job
fails only when every item did. Provider keys arrive sealed and are unsealed here, in memory.
"""

from __future__ import annotations

import json
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from reelforge import jobs
from reelforge.blobs import Blobs, job_prefix
from reelforge.errors import Missing, PreconditionFailed, ProviderError
from reelforge.ingest import IngestPolicy, fetch_file
from reelforge.media import sniff
from reelforge.settings import get_settings
from reelforge.store import Keys, NotFound, Table
from reelforge.workflow import readable_error
from reelforge.works import service
from reelforge.works.providers import catalog
from reelforge.works.providers.base import ImageJob, ScenarioBrief, VideoJob
from reelforge.works.providers.choice import RoleChoice
from reelforge.works.schemas import (
    DEFAULT_RESOLUTION,
    AnalysisResult,
    Resolution,
    ScenarioRequest,
    ScenarioScene,
    StyleGuide,
    UserIntent,
)

VIDEO_WAIT_LIMIT_S = 20 * 60  # a provider's video that takes longer is given up on
LOCAL_NOTE = "local provider: a designed card and the image in motion, not generated media"


def _maker(event: dict[str, Any], role: catalog.Role) -> Any:
    return catalog.make(role, RoleChoice(**event["providers"][role]).call())


def _work(event: dict[str, Any]) -> dict[str, Any]:
    try:
        return Table().get(service.work_key(event["project_id"], event["work_id"]))
    except NotFound:
        raise Missing("the work was deleted while the job ran") from None


def _project(event: dict[str, Any]) -> dict[str, Any]:
    try:
        return Table().get(Keys.project(event["project_id"]))
    except NotFound:
        raise Missing("the project was deleted while the job ran") from None


def _save_on_work(event: dict[str, Any], values: dict[str, Any], step: int) -> None:
    """Write the job's result on its work, on a fresh read (a PUT may have come meanwhile)."""
    for attempt in range(3):
        work = _work(event)
        try:
            service.write_work(work, {**values, "currentStep": max(int(work.get("currentStep") or 0), step)})
            return
        except PreconditionFailed:
            if attempt == 2:
                raise


# --- analyze, scenario, image -------------------------------------------------------------------

def analyze_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    jobs.set_running(job_id, message="Analyzing the reference video")
    with tempfile.TemporaryDirectory(prefix="works-analyze-") as tmp:
        path = Blobs().download(event["reference_key"], Path(tmp) / "reference")
        analysis = _maker(event, "vision").analyze(
            path, mode=event["mode"], analyzer_prompt=event.get("analyzer_prompt"),
            on_progress=lambda f: jobs.progress(job_id, stage="analyze", fraction=0.95 * f,
                                                message="Analyzing the reference video"))
    result = analysis.model_dump(exclude_none=True)
    if event.get("work_id"):
        _save_on_work(event, {"analysis": result, "mode": event["mode"]}, step=1)
    jobs.complete(job_id, {"analysis": result}, message="Analysis ready")
    return {"scene_count": analysis.scene_count}


def brief_for(event: dict[str, Any]) -> ScenarioBrief:
    """The scenario's brief: the request's (POST /api/scenario) or the work's and project's."""
    if event.get("request"):
        req = ScenarioRequest.model_validate(event["request"])
        return ScenarioBrief(intent=req.intent, analysis=req.analysis, system_prompt=req.systemPrompt or "",
                             knowledge=req.knowledge or "", style_guide=req.styleGuide)
    work, project = _work(event), _project(event)
    intent = UserIntent(mode=work.get("mode", "style_transfer"), product_name=work.get("productName") or None,
                        product_description=work.get("productDescription") or None,
                        target_audience=work.get("targetAudience") or None, language=work.get("language") or None,
                        video_duration=work.get("videoDuration"), scene_count=work.get("sceneCount"))
    analysis = AnalysisResult.model_validate(work["analysis"]) if work.get("analysis") else None
    guide = StyleGuide.model_validate(project["styleGuide"]) if project.get("styleGuide") else None
    return ScenarioBrief(intent=intent, analysis=analysis,
                         system_prompt=work.get("systemPrompt") or project.get("systemPrompt") or "",
                         knowledge=project.get("knowledge") or "", style_guide=guide,
                         image_system_prompt=_instruction(work, project, "image"),
                         video_system_prompt=_instruction(work, project, "video"))


def _instruction(work: dict[str, Any], project: dict[str, Any], kind: str) -> str:
    return work.get(f"{kind}SystemPrompt") or project.get(f"{kind}SystemPrompt") or ""


def scenario_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    jobs.set_running(job_id, message="Writing the scenario")
    scenes = _maker(event, "llm").scenario(brief_for(event))
    numbered = [ScenarioScene.model_validate({**s.model_dump(exclude={"id"}), "scene_index": i})
                for i, s in enumerate(scenes)]
    if event.get("work_id"):
        work = _work(event)
        # A new scenario's scenes are new scenes: fresh ids, the old scenes' media go.
        fresh = [s.model_copy(update={"id": f"scn_{service.new_job_id()[:12]}"}) for s in numbered]
        stored = service.with_scene_ids(work, fresh)
        _save_on_work(event, {"scenes": stored}, step=2)
        service.drop_removed_scenes(_work(event), {s["id"] for s in work.get("scenes") or []})
        result = {"scenes": stored}
    else:
        result = {"scenes": [s.model_dump(exclude_none=True, exclude={"id"}) for s in numbered]}
    jobs.complete(job_id, result, message=f"Scenario ready: {len(numbered)} scenes")
    return {"scene_count": len(numbered)}


def image_step(event: dict[str, Any]) -> dict[str, Any]:
    job_id = event["job_id"]
    jobs.set_running(job_id, message="Generating the image")
    spec = event["image"]
    picture = _maker(event, "image").image(ImageJob(
        prompt=spec["prompt"], negative_prompt=spec.get("negative_prompt") or "",
        instruction=spec.get("instruction") or "",
        style_guide=StyleGuide.model_validate(spec["style_guide"]) if spec.get("style_guide") else None,
        size=Resolution.model_validate(spec.get("size") or DEFAULT_RESOLUTION.model_dump())))
    ext = (sniff.image_type(picture.data[:16]) or ("png", picture.mime_type))[0]
    key = f"{job_prefix(job_id)}image.{ext}"
    Blobs().put_bytes(key, picture.data, picture.mime_type)
    jobs.complete(job_id, {"key": key, "mime_type": picture.mime_type, "note": picture.note}, message="Image ready")
    return {"key": key}


def export_step(event: dict[str, Any]) -> dict[str, Any]:
    """Render the work's timeline (the editorState stored beside the job) in one encode."""
    from reelforge.media.composition import render_composition
    from reelforge.works import timeline

    job_id = event["job_id"]
    jobs.set_running(job_id, message="Rendering the timeline")
    state = json.loads(Blobs().get_bytes(event["timeline_key"]))
    work = _work(event)
    s = get_settings()
    with tempfile.TemporaryDirectory(prefix="works-export-") as tmp:
        comp = timeline.composition(work, state, service.source_fetcher(work, Path(tmp)))
        rendered = render_composition(
            comp, Path(tmp) / "export.mp4", preset=s.render_preset, crf=s.render_crf,
            on_progress=lambda f: jobs.progress(job_id, stage="render", fraction=0.95 * f, message="Rendering"))
        key = f"{job_prefix(job_id)}export.mp4"
        Blobs().put_file(key, rendered.path, "video/mp4")
    jobs.complete(job_id, {"export_key": key, "duration": rendered.duration, "frames": rendered.frames},
                  message="Export ready")
    return {"frames": rendered.frames}


# --- scene items: image -> video (start, wait, poll) -> done ------------------------------------

def _scene(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    work = _work(event)
    for scene in work.get("scenes") or []:
        if scene["id"] == event["scene_id"]:
            return work, scene
    raise Missing("the scene was removed from the work while it was generated")


def _size(work: dict[str, Any]) -> Resolution:
    return Resolution.model_validate(work.get("resolution") or DEFAULT_RESOLUTION.model_dump())


def _guide(project: dict[str, Any]) -> StyleGuide | None:
    return StyleGuide.model_validate(project["styleGuide"]) if project.get("styleGuide") else None


def scene_image_step(event: dict[str, Any]) -> dict[str, Any]:
    """The scene's picture (a standalone video has its image already)."""
    if event.get("scene_id") is None:
        return event
    jobs.set_running(event["job_id"], message="Generating scenes")
    work, scene = _scene(event)
    project = _project(event)
    service.set_scene(work, scene["id"], {"status": service.GENERATING_IMAGE, "error": None})
    prompt = scene.get("image_prompt") or scene.get("video_prompt") or work["name"]
    picture = _maker(event, "image").image(ImageJob(
        prompt=prompt, negative_prompt=scene.get("negative_prompt") or "",
        instruction=_instruction(work, project, "image"), style_guide=_guide(project), size=_size(work)))
    ext = (sniff.image_type(picture.data[:16]) or ("png", picture.mime_type))[0]
    key = f"{service.media_prefix(work['project_id'], work['id'])}scenes/{scene['id']}/image.{ext}"
    Blobs().put_bytes(key, picture.data, picture.mime_type)
    service.set_scene(work, scene["id"], {"status": service.IMAGE_READY, "imageKey": key,
                                          "imageType": picture.mime_type, "note": picture.note})
    return event


def video_start_step(event: dict[str, Any]) -> dict[str, Any]:
    maker = _maker(event, "video")
    if event.get("scene_id") is None:
        spec = event["video"]
        image = Blobs().get_bytes(spec["image_key"])
        job = VideoJob(image=image, prompt=spec["prompt"], duration_s=float(spec["duration"]),
                       instruction=spec.get("instruction") or "",
                       style_guide=StyleGuide.model_validate(spec["style_guide"]) if spec.get("style_guide") else None,
                       size=Resolution.model_validate(spec.get("size") or DEFAULT_RESOLUTION.model_dump()),
                       camera_movement=spec.get("camera_movement"))
        jobs.set_running(event["job_id"], message="Generating the video")
    else:
        work, scene = _scene(event)
        project = _project(event)
        state = service.scene_states(work).get(scene["id"], {})
        if not state.get("imageKey"):
            raise Missing("the scene has no image to animate")
        image = Blobs().get_bytes(state["imageKey"])
        service.set_scene(work, scene["id"], {"status": service.GENERATING_VIDEO})
        job = VideoJob(image=image, prompt=scene.get("video_prompt") or scene.get("image_prompt") or "",
                       duration_s=float(scene.get("duration_seconds") or 5),
                       instruction=_instruction(work, project, "video"), style_guide=_guide(project),
                       size=_size(work), camera_movement=scene.get("camera_movement"))
    with tempfile.TemporaryDirectory(prefix="works-video-") as tmp:
        started = maker.start(job, Path(tmp))
        if started.path is not None:
            key = _store_video(event, started.path)
            return {**event, "op": {"done": True, "operation": None, "polls": 0, "key": key}}
    if not started.operation:
        raise ProviderError("the video provider started nothing (no operation and no video)")
    return {**event, "op": {"done": False, "operation": started.operation, "polls": 0}}


def video_poll_step(event: dict[str, Any]) -> dict[str, Any]:
    op = dict(event["op"])
    state = _maker(event, "video").poll(op["operation"])
    op["polls"] = int(op.get("polls") or 0) + 1
    if state.status == "failed":
        raise ProviderError(f"the video provider failed: {state.error or 'no reason given'}")
    if state.status != "succeeded":
        if op["polls"] * max(1, int(event.get("poll_s") or 1)) >= VIDEO_WAIT_LIMIT_S:
            raise ProviderError(f"the video provider did not finish within {VIDEO_WAIT_LIMIT_S // 60} minutes")
        return {**event, "op": op}
    with tempfile.TemporaryDirectory(prefix="works-video-") as tmp:
        path = Path(tmp) / "video.mp4"
        if state.video_bytes:
            path.write_bytes(state.video_bytes)
        elif state.video_url:
            s = get_settings()
            policy = IngestPolicy(max_bytes=service.MAX_SCENE_VIDEO_BYTES,
                                  allow_hosts=frozenset(s.ingest_allow_host_list), timeout_s=120)
            path = fetch_file(state.video_url, Path(tmp), policy).path
        else:
            raise ProviderError("the video provider finished without a video")
        key = _store_video(event, path)
    return {**event, "op": {**op, "done": True, "key": key}}


def _store_video(event: dict[str, Any], path: Path) -> str:
    with path.open("rb") as f:
        kind = sniff.video_type(f.read(sniff.HEAD_BYTES))
    if kind is None:
        raise ProviderError("the video provider's file is not a video (MP4, QuickTime, AVI or WebM)")
    if event.get("scene_id") is None:
        key = f"{job_prefix(event['job_id'])}video.{kind[0]}"
        Blobs().put_file(key, path, kind[1])
        return key
    work, scene = _scene(event)
    key = f"{service.media_prefix(work['project_id'], work['id'])}scenes/{scene['id']}/video.{kind[0]}"
    Blobs().put_file(key, path, kind[1])
    service.set_scene(work, scene["id"], {"videoKey": key, "videoType": kind[1]})
    return key


def _count_finished(event: dict[str, Any], message: str) -> None:
    done = jobs.count_done(event["job_id"], "finishedItems", event.get("scene_id") or "video")
    total = max(1, int(event.get("total") or 1))
    jobs.progress(event["job_id"], stage="scenes", fraction=min(0.99, done / total),
                  message=f"{message} ({done}/{total})")


def scene_done_step(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("scene_id") is not None:
        work, scene = _scene(event)
        service.release_scene(work, scene["id"], event["job_id"], {"status": service.DONE, "error": None})
        _count_finished(event, "Scene ready")
    return {"scene_id": event.get("scene_id"), "status": "done", "key": event["op"].get("key")}


def scene_failed_step(event: dict[str, Any]) -> dict[str, Any]:
    message = readable_error(event.get("error") or {})
    if event.get("scene_id") is not None:
        with suppress(Missing):
            work, scene = _scene(event)
            service.release_scene(work, scene["id"], event["job_id"], {"status": service.ERROR, "error": message})
        _count_finished(event, "Scene failed")
    return {"scene_id": event.get("scene_id"), "status": "error", "error": message,
            "error_type": error_type(event.get("error") or {})}


def error_type(error: dict[str, Any]) -> str:
    """The class name of the error a Catch caught (`errorType` in its Cause, else `Error`)."""
    try:
        return json.loads(error.get("Cause") or "")["errorType"]
    except (ValueError, KeyError, TypeError):
        return str(error.get("Error") or "Error")


def finish_step(event: dict[str, Any]) -> dict[str, Any]:
    """After the Map: the job completes unless every item failed."""
    results = event.get("results") or []
    failed = [r for r in results if r.get("status") == "error"]
    if results and len(failed) == len(results):
        jobs.set_fields(event["job_id"], {"errorType": failed[0].get("error_type")})
        jobs.fail(event["job_id"], failed[0]["error"] if len(failed) == 1 else
                  f"all {len(failed)} scenes failed; the first: {failed[0]['error']}")
        return {"status": "failed"}
    if event["task"] == "video":
        jobs.complete(event["job_id"], {"key": results[0]["key"], "mime_type": "video/mp4"}, message="Video ready")
    else:
        note = f"{len(failed)} of {len(results)} scenes failed" if failed else "All scenes ready"
        jobs.complete(event["job_id"], {"scenes": results}, message=note)
    return {"status": "completed"}


def failed_step(event: dict[str, Any]) -> dict[str, Any]:
    """A step outside the scene items failed: the job fails, and any scene it still holds
    as generating ends as `error` (so it can be generated again)."""
    message = readable_error(event.get("error") or {})
    if event.get("work_id") and event["task"] == "scenes":
        with suppress(Missing):
            work = _work(event)
            for sid, state in service.scene_states(work).items():
                if state.get("busy") == event["job_id"]:
                    service.release_scene(work, sid, event["job_id"], {"status": service.ERROR, "error": message})
    jobs.set_fields(event["job_id"], {"errorType": error_type(event.get("error") or {})})
    jobs.fail(event["job_id"], message)
    return {"status": "failed", "error": message}
