"""AutoVio works (seed 001): projects in AutoVio's shape, works, their media, and the works
jobs that analyze, write scenarios and generate scenes.

A project is the shared project record (projects.service) with AutoVio's fields on it. A work
is an item in its project's partition; each scene of its scenario has a stable id, and what
was generated for a scene (status, image, video) is a separate item keyed by that id, so a
PUT of the work never races a running generation and reordering scenes keeps their media.
Writes carry an ETag: a PUT with a stale `If-Match` is 412 instead of silently lost.

Every AI operation is a job (kind "works"; a timeline export is kind "export", like the
editor's) on the `works` state machine; the routes whose
original answer is synchronous wait for their job a bounded time (`works_sync_wait_s`, under
API Gateway's 29 s) and answer 202 with the job when it takes longer.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from reelforge import blobs, jobs, uploads
from reelforge.blobs import Blobs
from reelforge.errors import BadRequest, Conflict, Missing, PreconditionFailed, TooLarge
from reelforge.media import sniff
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, new_id, now_iso
from reelforge.workflow import start_execution
from reelforge.works.providers.choice import RoleChoice
from reelforge.works.schemas import (
    DEFAULT_RESOLUTION,
    ProjectBody,
    ScenarioScene,
    WorkBody,
    WorkPut,
)

KIND = "works"
PROJECT_FIELDS = ("projectType", "systemPrompt", "knowledge", "analyzerPrompt", "imageSystemPrompt",
                  "videoSystemPrompt", "styleGuide")
WORK_TEXT_DEFAULTS = {"productName": "", "productDescription": "", "targetAudience": "", "language": "en",
                      "systemPrompt": ""}
PENDING, GENERATING_IMAGE, IMAGE_READY, GENERATING_VIDEO, DONE, ERROR = (
    "pending", "generating_image", "image_ready", "generating_video", "done", "error")
RUNNING_SCENE = (GENERATING_IMAGE, GENERATING_VIDEO)
MAX_REFERENCE_BYTES = 500 * 2**20
MAX_ANALYZE_BYTES = 100 * 2**20
MAX_IMAGE_BYTES = 20 * 2**20
MAX_SCENE_VIDEO_BYTES = 500 * 2**20
MAX_AUDIO_BYTES = 100 * 2**20
MAX_WORK_JSON = 300_000
UPLOADS_PREFIX = "works-uploads/"  # <owner>/<project>/<work>/reference: presigned reference uploads  # a DynamoDB item holds 400 KB; the rest is ours


def epoch_ms(iso: str | None) -> int | None:
    if not iso:
        return None
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def etag_of(view: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(view, sort_keys=True, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def check_if_match(if_match: str | None, etag: str) -> None:
    """412 unless If-Match is absent, `*`, or names the current ETag (weak or strong)."""
    if if_match is None:
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and etag not in tags:
        raise PreconditionFailed(f"the resource changed since it was read (its ETag is now {etag}); "
                                 "GET it again and reapply your change")


# --- projects -----------------------------------------------------------------------------------

def project_view(item: dict[str, Any]) -> dict[str, Any]:
    """AutoVio's Project: its fields, timestamps in epoch ms."""
    out: dict[str, Any] = {"id": item["id"], "userId": item["owner"], "name": item["name"],
                           "createdAt": epoch_ms(item.get("created_at")),
                           "updatedAt": epoch_ms(item.get("updated_at")),
                           "systemPrompt": item.get("systemPrompt") or "", "knowledge": item.get("knowledge") or ""}
    for name in ("projectType", "analyzerPrompt", "imageSystemPrompt", "videoSystemPrompt", "styleGuide"):
        if item.get(name) is not None:
            out[name] = item[name]
    return out


def project_etag(item: dict[str, Any]) -> str:
    return etag_of(project_view(item))


def _project_fields(body: ProjectBody) -> dict[str, Any]:
    values = body.model_dump(include=set(PROJECT_FIELDS))
    if body.styleGuide is not None:
        values["styleGuide"] = body.styleGuide.model_dump(exclude_none=True)
    return values


def create_project(owner: str, body: ProjectBody) -> dict[str, Any]:
    return projects.create(owner, body.name, body.description, body.video_url,
                           extra={k: v for k, v in _project_fields(body).items() if v is not None})


def put_project(owner: str, project_id: str, body: Any, if_match: str | None) -> dict[str, Any]:
    """Replace the project's AutoVio fields (a full PUT: what is absent is cleared)."""
    if body.id != project_id:
        raise BadRequest("ID mismatch")
    item = projects.get(owner, project_id)
    check_if_match(if_match, project_etag(item))
    if body.video_url and body.video_url != item.get("video_url"):
        raise BadRequest("video_url is fetched when a project is created; it cannot be changed")
    values = {**_project_fields(body), "name": body.name, "description": body.description,
              "updated_at": now_iso()}
    try:
        return Table().update(Keys.project(project_id), values, condition="#u = :u",
                              condition_values={":u": item["updated_at"]}, condition_names={"#u": "updated_at"})
    except ConditionFailed:
        raise PreconditionFailed("the project changed while it was written; GET it again") from None


def list_projects(owner: str) -> list[dict[str, Any]]:
    items = sorted(projects.list_for_owner(owner), key=lambda p: p.get("updated_at") or "", reverse=True)
    return items


# --- works --------------------------------------------------------------------------------------

def work_key(project_id: str, work_id: str) -> dict[str, str]:
    return Keys.child("work", project_id, work_id)


def scene_key(project_id: str, work_id: str, scene_id: str) -> dict[str, str]:
    return Keys.child("workscene", project_id, f"{work_id}#{scene_id}")


def media_prefix(project_id: str, work_id: str) -> str:
    return f"{blobs.project_prefix(project_id)}works/{work_id}/"


def create_work(owner: str, project_id: str, body: WorkBody) -> dict[str, Any]:
    project = projects.get(owner, project_id)
    wid = f"work_{new_id()}"
    ts = now_iso()
    item = {**work_key(project_id, wid), "type": "work", "id": wid, "project_id": project_id, "owner": owner,
            **WORK_TEXT_DEFAULTS, **body.model_dump(exclude_none=True, exclude={"resolution"}),
            "resolution": (body.resolution or DEFAULT_RESOLUTION).model_dump(),
            "systemPrompt": project.get("systemPrompt") or "",
            "currentStep": 0, "hasReferenceVideo": False, "analysis": None, "scenes": [],
            "rev": 0, "created_at": ts, "updated_at": ts}
    for name in ("analyzerPrompt", "imageSystemPrompt", "videoSystemPrompt"):
        if project.get(name):
            item[name] = project[name]
    Table().put_new(item)
    return item


def get_work(owner: str, project_id: str, work_id: str) -> dict[str, Any]:
    projects.get(owner, project_id)
    try:
        return Table().get(work_key(project_id, work_id))
    except NotFound:
        raise Missing("Work not found") from None


def list_works(owner: str, project_id: str) -> list[dict[str, Any]]:
    projects.get(owner, project_id)
    items = Table().query_partition(f"PROJECT#{project_id}", "WORK#")
    return sorted(items, key=lambda w: w.get("updated_at") or "", reverse=True)


def scene_states(work: dict[str, Any]) -> dict[str, dict[str, Any]]:
    prefix = f"WORKSCENE#{work['id']}#"
    return {s["scene_id"]: s for s in Table().query_partition(f"PROJECT#{work['project_id']}", prefix)}


def media_route(work: dict[str, Any]) -> str:
    return f"/api/projects/{work['project_id']}/works/{work['id']}/media"


def work_view(work: dict[str, Any], states: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """AutoVio's WorkSnapshot (epoch-ms timestamps), with each scene's generation."""
    states = scene_states(work) if states is None else states
    base = media_route(work)
    generated = []
    for index, scene in enumerate(work.get("scenes") or []):
        state = states.get(scene["id"], {})
        generated.append({"sceneIndex": index, "sceneId": scene["id"], "status": state.get("status", PENDING),
                          "imageUrl": f"{base}/scene/{scene['id']}/image" if state.get("imageKey") else None,
                          "videoUrl": f"{base}/scene/{scene['id']}/video" if state.get("videoKey") else None,
                          "error": state.get("error"), "jobId": state.get("jobId")})
    out = {"id": work["id"], "projectId": work["project_id"], "name": work["name"],
           "createdAt": epoch_ms(work.get("created_at")), "updatedAt": epoch_ms(work.get("updated_at")),
           "systemPrompt": work.get("systemPrompt") or "", "currentStep": int(work.get("currentStep") or 0),
           "hasReferenceVideo": bool(work.get("hasReferenceVideo")), "mode": work.get("mode", "style_transfer"),
           **{k: work.get(k, v) for k, v in WORK_TEXT_DEFAULTS.items() if k != "systemPrompt"},
           "analysis": work.get("analysis"), "scenes": work.get("scenes") or [], "generatedScenes": generated}
    for name in ("analyzerPrompt", "imageSystemPrompt", "videoSystemPrompt", "videoDuration", "sceneCount",
                 "editorState", "selectedAssetIds", "assetUsageMode", "resolution"):
        if work.get(name) is not None:
            out[name] = work[name]
    if work.get("audioKey"):
        out["audioUrl"] = f"{base}/audio"
    if work.get("referenceKey"):
        out["referenceVideoUrl"] = f"{base}/reference"
    if work.get("referenceUploadError"):
        out["referenceUploadError"] = work["referenceUploadError"]
    return out


def work_etag(work: dict[str, Any]) -> str:
    """Changes with every write of the work itself (not with a scene's generation progress,
    which a client cannot write)."""
    return etag_of({"id": work["id"], "rev": int(work.get("rev") or 0)})


def write_work(work: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Write `values` if the work is still at the revision `work` was read at (else 412)."""
    rev = int(work.get("rev") or 0)
    try:
        return Table().update(work_key(work["project_id"], work["id"]),
                              {**values, "rev": rev + 1, "updated_at": now_iso()},
                              condition="#rev = :rev", condition_values={":rev": rev},
                              condition_names={"#rev": "rev"})
    except ConditionFailed:
        raise PreconditionFailed("the work changed while it was written; GET it again") from None


def put_work(owner: str, project_id: str, work_id: str, body: WorkPut, if_match: str | None) -> dict[str, Any]:
    if body.id != work_id or (body.projectId is not None and body.projectId != project_id):
        raise BadRequest("ID mismatch")
    work = get_work(owner, project_id, work_id)
    check_if_match(if_match, work_etag(work))
    values = body.model_dump(exclude={"id", "projectId", "scenes", "analysis", "resolution"})
    values["analysis"] = body.analysis.model_dump(exclude_none=True) if body.analysis else None
    values["resolution"] = (body.resolution or DEFAULT_RESOLUTION).model_dump()
    values["scenes"] = with_scene_ids(work, body.scenes)
    if len(json.dumps(values, default=str)) > MAX_WORK_JSON:
        raise TooLarge(f"the work is over {MAX_WORK_JSON // 1000} KB of JSON; keep large media as files")
    for name in ("analyzerPrompt", "imageSystemPrompt", "videoSystemPrompt", "videoDuration", "sceneCount",
                 "editorState", "selectedAssetIds", "assetUsageMode"):
        values.setdefault(name, None)
    updated = write_work(work, values)
    drop_removed_scenes(updated, {s["id"] for s in work.get("scenes") or []})
    return updated


def with_scene_ids(work: dict[str, Any], scenes: list[ScenarioScene]) -> list[dict[str, Any]]:
    """The scenes as stored: 0-based `scene_index` by position and a stable `id` each. A scene
    sent without an id (an old client) is matched to the stored scene with the same prompts,
    else to the one at its position, so its media stay with it."""
    stored = list(work.get("scenes") or [])
    known = {s["id"] for s in stored}
    taken: set[str] = {s.id for s in scenes if s.id}
    if len(taken) != sum(1 for s in scenes if s.id):
        raise BadRequest("two scenes have the same id")
    out = []
    for index, scene in enumerate(scenes):
        sid = scene.id
        if not sid:
            same = [s["id"] for s in stored if s["id"] not in taken and
                    (s.get("image_prompt"), s.get("video_prompt")) == (scene.image_prompt, scene.video_prompt)]
            at = stored[index]["id"] if index < len(stored) and stored[index]["id"] not in taken else None
            sid = same[0] if same else at or f"scn_{new_id()[:12]}"
            taken.add(sid)
        elif sid not in known and not sid.startswith("scn_"):
            sid = f"scn_{sid}"[:64]
        out.append({**scene.model_dump(exclude_none=True, exclude={"id"}), "scene_index": index, "id": sid})
    return out


def drop_removed_scenes(work: dict[str, Any], before: set[str]) -> None:
    """A scene the client removed takes its generation and media with it."""
    kept = {s["id"] for s in work.get("scenes") or []}
    for sid in before - kept:
        Table().delete(scene_key(work["project_id"], work["id"], sid))
        Blobs().delete_prefix(f"{media_prefix(work['project_id'], work['id'])}scenes/{sid}/")


def delete_work(owner: str, project_id: str, work_id: str, if_match: str | None) -> None:
    work = get_work(owner, project_id, work_id)
    check_if_match(if_match, work_etag(work))
    for state in scene_states(work).values():
        Table().delete({"PK": state["PK"], "SK": state["SK"]})
    Blobs().delete_prefix(media_prefix(project_id, work_id))
    Table().delete(work_key(project_id, work_id))


def find_scene(work: dict[str, Any], ref: str) -> tuple[int, dict[str, Any]]:
    """A scene by its id or its 0-based index (the contract's `:sceneIndex`)."""
    scenes = work.get("scenes") or []
    for index, scene in enumerate(scenes):
        if scene["id"] == ref:
            return index, scene
    if ref.isdecimal() and int(ref) < len(scenes):
        return int(ref), scenes[int(ref)]
    if ref.startswith("-") and ref[1:].isdecimal():
        raise BadRequest("Invalid scene index")
    if ref.isdecimal():
        raise Missing("Scene not found or scenario not generated")
    raise Missing(f"Scene not found: no scene {ref!r} in this work")


# --- media --------------------------------------------------------------------------------------

def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(sniff.HEAD_BYTES)


def store_reference(work: dict[str, Any], path: Path) -> dict[str, Any]:
    kind = checked_video(path)
    key = f"{media_prefix(work['project_id'], work['id'])}reference.{kind[0]}"
    old = work.get("referenceKey")
    Blobs().put_file(key, path, kind[1])
    if old and old != key:
        Blobs().delete(old)
    return _note_on_work(work["owner"], work["project_id"], work["id"],
                         {"referenceKey": key, "referenceType": kind[1], "hasReferenceVideo": True,
                          "referenceUploadError": None})


def checked_video(path: Path) -> tuple[str, str]:
    """(extension, MIME type) of a video file that has a decodable video stream, else 400."""
    from reelforge.errors import InvalidMediaError
    from reelforge.media.source import probe_video

    kind = sniff.video_type(_head(path))
    if kind is None:
        raise BadRequest("Unsupported file type: the reference must be an MP4, QuickTime, AVI or WebM video")
    try:
        probe_video(path)
    except InvalidMediaError as exc:
        raise BadRequest(f"The video cannot be read: {exc}") from None
    return kind


def reference_upload_key(work: dict[str, Any]) -> str:
    return f"{UPLOADS_PREFIX}{work['owner']}/{work['project_id']}/{work['id']}/reference"


@uploads.handles(UPLOADS_PREFIX)
def on_upload(key: str, size: int) -> dict[str, Any]:
    """A presigned reference upload landed: if it is a video within the limit it becomes the
    work's reference (copied beside the work's other media); the upload itself goes."""
    parts = key[len(UPLOADS_PREFIX):].split("/")
    store = Blobs()
    try:
        if len(parts) != 4 or parts[3] != "reference":
            return {"key": key, "outcome": "ignored", "reason": "unexpected key layout"}
        owner, project_id, work_id, _name = parts
        try:
            work = get_work(owner, project_id, work_id)
        except (NotFound, Missing):
            return {"key": key, "outcome": "deleted", "reason": "no such work"}
        kind = sniff.video_type(b"".join(store.read_range(key, 0, sniff.HEAD_BYTES - 1))) if size else None
        reason = ("over the 500 MB limit" if size > MAX_REFERENCE_BYTES else
                  "not an MP4, QuickTime, AVI or WebM video" if kind is None else None)
        if reason:
            _note_on_work(owner, project_id, work_id, {"referenceUploadError": f"the uploaded reference was refused: "
                                                                             f"{reason}"})
            return {"key": key, "outcome": "failed", "reason": reason}
        dest = f"{media_prefix(project_id, work_id)}reference.{kind[0]}"
        store.copy(key, dest, kind[1])
        if work.get("referenceKey") and work["referenceKey"] != dest:
            store.delete(work["referenceKey"])
        _note_on_work(owner, project_id, work_id, {"referenceKey": dest, "referenceType": kind[1],
                                                   "hasReferenceVideo": True, "referenceUploadError": None})
        return {"key": key, "outcome": "ready"}
    finally:
        store.delete(key)


def _note_on_work(owner: str, project_id: str, work_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Write what the server keeps on a work (its reference, its audio) on a fresh read: an
    upload takes a while, and a client's PUT meanwhile must not make it fail."""
    attempts = 3
    while True:
        try:
            return write_work(get_work(owner, project_id, work_id), values)
        except PreconditionFailed:
            attempts -= 1
            if not attempts:
                raise


def store_scene_media(work: dict[str, Any], ref: str, kind: str, path: Path) -> dict[str, Any]:
    """An uploaded scene image or video (checked by its bytes) becomes the scene's."""
    _index, scene = find_scene(work, ref)
    found = sniff.image_type(_head(path)) if kind == "image" else sniff.video_type(_head(path))
    if found is None:
        raise BadRequest("Unsupported file type: " + ("a PNG, JPEG or WebP image" if kind == "image"
                                                      else "an MP4, QuickTime, AVI or WebM video") + " is needed")
    key = f"{media_prefix(work['project_id'], work['id'])}scenes/{scene['id']}/{kind}.{found[0]}"
    Blobs().put_file(key, path, found[1])
    state = set_scene(work, scene["id"], {f"{kind}Key": key, f"{kind}Type": found[1],
                                          "status": DONE if kind == "video" else IMAGE_READY, "error": None})
    return state


def store_audio(work: dict[str, Any], path: Path) -> dict[str, Any]:
    kind = sniff.audio_type(_head(path))
    if kind is None:
        raise BadRequest("Unsupported file type: the audio must be MP3, WAV, Ogg, FLAC, M4A or AAC")
    key = f"{media_prefix(work['project_id'], work['id'])}audio.{kind[0]}"
    old = work.get("audioKey")
    Blobs().put_file(key, path, kind[1])
    if old and old != key:
        Blobs().delete(old)
    return _note_on_work(work["owner"], work["project_id"], work["id"], {"audioKey": key, "audioType": kind[1]})


def media_object(work: dict[str, Any], what: str, ref: str | None = None) -> tuple[str, str]:
    """(key, MIME type) of a work's reference, audio or a scene's image/video; Missing if none."""
    if what in ("reference", "audio"):
        key, mime = work.get(f"{what}Key"), work.get(f"{what}Type")
        if not key:
            raise Missing("Reference video not found" if what == "reference" else "Audio not found")
        return key, mime or "application/octet-stream"
    _index, scene = find_scene(work, ref or "")
    state = scene_states(work).get(scene["id"], {})
    if not state.get(f"{what}Key"):
        raise Missing(f"Scene {what} not found")
    return state[f"{what}Key"], state.get(f"{what}Type") or ("video/mp4" if what == "video" else "image/png")


def set_scene(work: dict[str, Any], scene_id: str, values: dict[str, Any]) -> dict[str, Any]:
    key = scene_key(work["project_id"], work["id"], scene_id)
    item = {**key, "type": "work_scene", "work_id": work["id"], "scene_id": scene_id, "updated_at": now_iso()}
    try:
        return Table().update(key, {**values, "updated_at": item["updated_at"]})
    except ConditionFailed:  # no state yet
        Table().put({**item, "status": PENDING, **{k: v for k, v in values.items() if v is not None}})
        return Table().get(key)


def claim_scene(work: dict[str, Any], scene_id: str, job_id: str) -> None:
    """One generation of a scene at a time: `busy` names the job that holds the scene, set
    only where nobody holds it (or its holder has ended), so two requests cannot both win."""
    key = scene_key(work["project_id"], work["id"], scene_id)
    values = {"busy": job_id, "jobId": job_id, "status": PENDING, "error": None, "updated_at": now_iso()}
    table = Table()
    try:
        table.put_new({**key, "type": "work_scene", "work_id": work["id"], "scene_id": scene_id, **values})
        return
    except ConditionFailed:
        pass
    try:
        table.update(key, values, condition="attribute_not_exists(busy)")
        return
    except ConditionFailed:
        holder = table.get(key).get("busy")
    if holder and not _ended(holder):
        raise Conflict("this scene is being generated; try again when its job has finished")
    try:  # the holder ended without letting go (its execution never started): take over
        table.update(key, values, condition="busy = :holder", condition_values={":holder": holder})
    except ConditionFailed:
        raise Conflict("this scene is being generated; try again when its job has finished") from None


def _ended(job_id: str) -> bool:
    try:
        return jobs.get(job_id)["status"] in jobs.TERMINAL
    except NotFound:
        return True


def release_scene(work: dict[str, Any], scene_id: str, job_id: str, values: dict[str, Any]) -> None:
    """The job is done with the scene: record `values` and let go of it (if it still holds it)."""
    key = scene_key(work["project_id"], work["id"], scene_id)
    with suppress(ConditionFailed):  # the scene was removed, or another job took it over
        Table().update(key, {**values, "busy": None, "updated_at": now_iso()}, condition="busy = :job",
                       condition_values={":job": job_id})


# --- jobs ---------------------------------------------------------------------------------------

def start_task(owner: str, task: str, payload: dict[str, Any], choices: dict[str, RoleChoice], *,
               project_id: str | None = None, work_id: str | None = None, job_id: str | None = None,
               total_steps: int | None = None) -> dict[str, Any]:
    """A works job (jobType `task`) on the works state machine."""
    s = get_settings()
    job = jobs.create(owner, KIND, project_id=project_id, job_id=job_id, message="Queued", extra={
        "jobType": task, "workId": work_id, "totalSteps": total_steps,
        jobs.UPLOAD_PREFIX_FIELD: blobs.job_prefix(job_id) if job_id else None})
    start_execution(s.works_state_machine_arn, job["id"], {
        "task": task, "owner": owner, "project_id": project_id, "work_id": work_id,
        "providers": {role: c.model_dump() for role, c in choices.items()},
        "poll_s": s.works_poll_interval_s, "concurrency": s.works_concurrency, **payload})
    return job


def new_job_id() -> str:
    return new_id()


def start_scenes(owner: str, project_id: str, work_id: str, refs: list[str] | None,
                 choices: dict[str, RoleChoice]) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Generate these scenes (None: every scene not being generated): image, then video.
    Returns (job, work, the scenes claimed)."""
    work = get_work(owner, project_id, work_id)
    scenes = work.get("scenes") or []
    if not scenes:
        raise Missing("Scene not found or scenario not generated")
    picked = [find_scene(work, r)[1] for r in refs] if refs is not None else scenes
    job_id = new_job_id()
    claimed = []
    try:
        for scene in picked:
            try:
                claim_scene(work, scene["id"], job_id)
                claimed.append(scene)
            except Conflict:
                if refs is not None:
                    raise
        if not claimed:
            raise Conflict("every scene of this work is being generated already")
        job = start_task(owner, "scenes", {"scenes": [{"scene_id": s["id"]} for s in claimed],
                                           "total": len(claimed), "video": None}, choices,
                         project_id=project_id, work_id=work_id, job_id=job_id, total_steps=len(claimed))
    except Exception:
        for scene in claimed:
            release_scene(work, scene["id"], job_id, {"status": PENDING, "jobId": None})
        raise
    return job, work, claimed


def start_export(owner: str, work: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """An `export` job (the same kind, record and GET /api/export/{id} as the editor's) that
    renders `state` (kept as JSON beside the job: it can pass a state machine's 256 KB) on the
    works state machine."""
    s = get_settings()
    job_id = new_job_id()
    key = f"{blobs.job_prefix(job_id)}timeline.json"
    Blobs().put_bytes(key, json.dumps(state).encode(), "application/json")
    job = jobs.create(owner, "export", project_id=work["project_id"], job_id=job_id, message="Queued", extra={
        "jobType": "export", "workId": work["id"], jobs.UPLOAD_PREFIX_FIELD: blobs.job_prefix(job_id)})
    start_execution(s.works_state_machine_arn, job_id, {
        "task": "export", "owner": owner, "project_id": work["project_id"], "work_id": work["id"],
        "timeline_key": key, "providers": {}, "poll_s": s.works_poll_interval_s, "concurrency": 1})
    return job


def source_fetcher(work: dict[str, Any], workdir: Path) -> Any:
    """fetch(kind, ref) for works.timeline: a scene's video and the work's audio as presigned
    URLs (ranged reads, nothing downloaded), an asset (a font or image) downloaded to `workdir`."""
    store = Blobs()
    states = scene_states(work)

    def fetch(kind: str, ref: str) -> str | Path:
        if kind == "scene":
            key = states.get(ref, {}).get("videoKey")
            if not key:
                index = next((i for i, s in enumerate(work.get("scenes") or []) if s["id"] == ref), "?")
                raise BadRequest(f"Scene video not found for scene index {index}")
            return store.presign_get(key)
        if kind == "audio":
            if not work.get("audioKey"):
                raise BadRequest("the timeline names the work's audio, but none was uploaded")
            return store.presign_get(work["audioKey"])
        try:
            asset = projects.get_asset(work["project_id"], ref)
        except NotFound:
            raise BadRequest(f"the timeline names asset {ref!r}, which is not in the project") from None
        path = workdir / f"{ref}-{asset['file_name']}"
        if not path.exists():
            store.download(asset["s3_key"], path)
        return path

    return fetch


def scene_urls(work: dict[str, Any], scene: dict[str, Any]) -> dict[str, str]:
    base = media_route(work)
    return {"imageUrl": f"{base}/scene/{scene['id']}/image", "videoUrl": f"{base}/scene/{scene['id']}/video"}


def wait_for(job: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The job once it has ended, or as it is after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        current = jobs.get(job["id"])
        if current["status"] in jobs.TERMINAL or time.monotonic() >= deadline:
            return current
        time.sleep(0.2)


def owns_object(owner: str, key: str) -> bool:
    """Whether `key` is under one of `owner`'s jobs or projects (a URL we presigned for them)."""
    for prefix, read in ((blobs.job_prefix(""), jobs.get), (blobs.project_prefix(""), projects.get_any)):
        prefix = prefix.rstrip("/") + "/"  # "artifacts/jobs/", whose next part is the id
        if key.startswith(prefix):
            ident = key[len(prefix):].split("/", 1)[0]
            try:
                return bool(ident) and read(ident).get("owner") == owner
            except NotFound:
                return False
    return False


def job_links(job: dict[str, Any]) -> dict[str, Any]:
    return {"jobId": job["id"], "status": job["status"], "statusUrl": f"/api/job/{job['id']}",
            "progressUrl": f"/api/progress/{job['id']}"}


@jobs.presents(KIND)
def _present(job: dict[str, Any]) -> dict[str, Any]:
    out = {"jobType": job.get("jobType"), "projectId": job.get("project_id"), "workId": job.get("workId"),
           "errorType": job.get("errorType")}
    result = job.get("result") or {}
    if result.get("key"):  # a standalone image or video: a fresh presigned URL
        out["url"] = Blobs().presign_get(result["key"], content_type=result.get("mime_type"))
    elif job.get("jobType") == "analyze":  # what the synchronous answer would have been
        out["result"] = result.get("analysis")
    elif job.get("jobType") == "scenario":
        out["result"] = result or None
    return out


@projects.deletes_with_project
def _delete_jobs(project: dict[str, Any]) -> None:
    """Running scene jobs of a deleted project end as failed (the works go with the partition)."""
    for item in Table().query_partition(project["PK"], "WORKSCENE#"):
        if item.get("status") in RUNNING_SCENE and item.get("jobId"):
            jobs.fail(item["jobId"], "the project was deleted")
