"""The narrated-video surface (seed 003): generations, their documents and videos, and the
jobs that render them. The `generate` state machine's steps are in steps.py.

A generation (`GENERATION#<gid>`) is what the user sees: a topic, its content and script,
the current video. Each render of it (the first, a re-render after an edit, one slide
changed) is a job of kind "generate"; the generation names its newest job, so the seed's
`/api/status|progress/{generation_id}` show the run in progress.
"""

from __future__ import annotations

import re
from typing import Any

from reelforge import auth, jobs
from reelforge.ai.choice import ProviderChoice
from reelforge.blobs import ARTIFACTS_PREFIX, Blobs
from reelforge.errors import Conflict, Missing
from reelforge.narrate.schemas import Content, GenerateBody, Script, SlideEdit
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, new_id, now_iso
from reelforge.workflow import start_execution

KIND = "generate"
VIDEO_ROUTE = "/api/video/"
_VIDEO_NAME = re.compile(r"^([0-9a-f]{32})_final\.mp4$")


# --- seed 003's stages: the `status` of its progress frames, at its progress values --------

def report(job_id: str, stage: str, progress: float, message: str) -> bool:
    """One progress frame: `stage` is the seed's status name, `progress` its 0-100 value."""
    return jobs.progress(job_id, stage=stage, fraction=progress / 100, message=message)


def audio_progress(done: int, total: int) -> int:
    return 30 + int(done / total * 15)


def media_progress(done: int, total: int) -> int:
    return 50 + int(done / total * 30)


@jobs.frames(KIND)
def progress_frame(frame: dict[str, Any]) -> dict[str, Any]:
    """Seed 003's frame: the stage name is the `status`, the time is "HH:MM:SS"."""
    status = frame.get("status")
    out = dict(frame)
    if status in (jobs.QUEUED, jobs.RUNNING):
        stage = frame.get("stage") or status
        out["status"] = "started" if stage == "starting" else stage
    elif status == jobs.FAILED:
        out.update(status="error", progress=0,
                   message=f"❌ Error: {frame.get('error') or frame.get('message', '')}".replace("Error: Error: ", "Error: "))
    elif status == jobs.COMPLETED and frame.get("stage") != "script_ready":
        out.update(status="completed", message="✅ Video generation complete!")
    elif status == jobs.COMPLETED:
        out["status"] = "script_ready"
    elif status == "connected":
        out["message"] = "📡 Connected to progress stream"
    elif status == "done":
        out["message"] = "✅ Stream ended"
    stamp = str(frame.get("timestamp") or "")
    out["timestamp"] = stamp[11:19] if len(stamp) >= 19 and stamp[10] == "T" else stamp
    return out


# --- generations ---------------------------------------------------------------------------

def generation_prefix(gid: str) -> str:
    return f"{ARTIFACTS_PREFIX}generations/{gid}/"


def content_key(gid: str) -> str:
    return f"{generation_prefix(gid)}content.json"


def script_key(gid: str) -> str:
    return f"{generation_prefix(gid)}script.json"


def source_key(gid: str) -> str:
    return f"{generation_prefix(gid)}source.txt"


def video_filename(gid: str) -> str:
    return f"{gid}_final.mp4"


def topic_slugs(topic: str) -> set[str]:
    """The ids seed 003 derives from a topic: its front end's (`/` and `\\` removed) and its
    server's (`/` and `\\` made `_`); both resolve to the caller's newest such generation."""
    t30 = topic[:30].replace(" ", "_")
    client = re.sub(r"[:\"'/?!\\]", "", t30)
    server = re.sub(r"[:\"'?!]", "", t30.replace("/", "_").replace("\\", "_"))
    return {s for s in (client, server) if s}


def get_generation(gid: str, owner: str) -> dict[str, Any]:
    """The caller's generation; NotFound for anyone else's."""
    item = Table().get(Keys.generation(gid))
    if item.get("owner") != owner:
        raise NotFound(gid)
    return item


def find_generation(ident: str, owner: str) -> dict[str, Any]:
    """A generation by id, or by topic slug (the caller's newest with that topic)."""
    try:
        return get_generation(ident, owner)
    except NotFound:
        ref = Table().get(Keys.generation_slug(owner, ident))
        return get_generation(ref["generation_id"], owner)


@jobs.resolves
def _generation_job(owner: str, ident: str) -> str | None:
    """/api/status|progress/{generation_id or topic slug}: the generation's newest job."""
    try:
        return find_generation(ident, owner).get("job_id")
    except NotFound:
        return None


def create_generation(owner: str, body: GenerateBody, provider: ProviderChoice) -> dict[str, Any]:
    """A new generation and its first job, started at once; returns the generation."""
    gid, ts = new_id(), now_iso()
    if body.source_text:
        Blobs().put_bytes(source_key(gid), body.source_text.encode(), "text/plain; charset=utf-8")
    item = {
        **Keys.generation(gid), **Keys.owner_index(owner, "GENERATION", ts),
        "type": "generation", "id": gid, "owner": owner, "topic": body.topic,
        "num_slides": body.num_slides, "options": body.options().model_dump(),
        "target_duration_s": body.target_duration_s, "has_source": bool(body.source_text),
        "provider": provider.name, "job_id": None, "has_script": False, "video_ready": False,
        "revision": 0, "createdAt": ts, "updatedAt": ts,
    }
    Table().put_new(item)
    for slug in topic_slugs(body.topic):
        Table().put({**Keys.generation_slug(owner, slug), "type": "generation_slug", "generation_id": gid})
    job = _start_job(item, provider, mode="write", stop_after=body.stop_after)
    return {**item, "job_id": job["id"]}


def start_render(gid: str, owner: str, provider: ProviderChoice) -> dict[str, Any]:
    """Render (or re-render) a generation from its stored content and script; returns the job."""
    gen = get_generation(gid, owner)
    if not gen.get("has_script"):
        raise Conflict("this generation has no script yet: wait for it, or edit it once it is written")
    return _start_job(gen, provider, mode="render")


def _start_job(gen: dict[str, Any], provider: ProviderChoice, *, mode: str,
               stop_after: str | None = None) -> dict[str, Any]:
    gid, previous = gen["id"], gen.get("job_id")
    _require_idle(gen)
    job = jobs.create(gen["owner"], KIND, message="⏳ Queued", extra={"generation_id": gid},
                      params={"generation_id": gid, "mode": mode, "provider": provider.name})
    try:
        # One run at a time: the generation moves to this job only from the one it last had.
        if previous:
            Table().update(Keys.generation(gid), {"job_id": job["id"], "updatedAt": now_iso()},
                           condition="#j = :prev", condition_values={":prev": previous},
                           condition_names={"#j": "job_id"})
        else:
            Table().update(Keys.generation(gid), {"job_id": job["id"], "updatedAt": now_iso()},
                           condition="attribute_not_exists(#j)", condition_names={"#j": "job_id"})
    except ConditionFailed as exc:
        jobs.fail(job["id"], "another render of this generation started first")
        raise Conflict("another render of this generation started first") from exc
    start_execution(get_settings().generate_state_machine_arn, job["id"], {
        "generation_id": gid, "owner": gen["owner"], "mode": mode, "stop_after": stop_after,
        "options": gen["options"], "provider": provider.model_dump(),
        "config": {"concurrency": get_settings().generate_concurrency}})
    return job


def _require_idle(gen: dict[str, Any]) -> None:
    job_id = gen.get("job_id")
    try:
        running = bool(job_id) and jobs.get(job_id)["status"] not in jobs.TERMINAL
    except NotFound:  # its last job expired (JOB_RETENTION_SECONDS); the generation stays
        running = False
    if running:
        raise Conflict("a render of this generation is running; edit it when it has finished")


# --- the documents ---------------------------------------------------------------------------

def load_content(gid: str) -> Content:
    return Content.model_validate_json(Blobs().get_bytes(content_key(gid)))


def load_script(gid: str) -> Script:
    return Script.model_validate_json(Blobs().get_bytes(script_key(gid)))


def save_content(gid: str, content: Content) -> None:
    Blobs().put_bytes(content_key(gid), content.model_dump_json(indent=1).encode(), "application/json")


def save_script(gid: str, script: Script) -> None:
    Blobs().put_bytes(script_key(gid), script.model_dump_json(indent=1).encode(), "application/json")


def document(ident: str, owner: str, which: str) -> dict[str, Any]:
    """The generation's content or script as seed 003 shows it; NotFound until written."""
    gen = find_generation(ident, owner)
    if not gen.get("has_script") and which == "script":
        raise NotFound("Script not found")
    loaded = load_content(gen["id"]) if which == "content" else load_script(gen["id"])
    return loaded.model_dump(exclude={"provider", "notes", "timed"})


def edit_content(ident: str, owner: str, slides: list[Any]) -> dict[str, Any]:
    gen = find_generation(ident, owner)
    _require_idle(gen)
    content, script = load_content(gen["id"]), load_script(gen["id"])
    if len(slides) != len(script.slide_scripts):
        raise Conflict(f"give {len(script.slide_scripts)} slides (the script's count); "
                         "to change one slide use POST /api/generate/{id}/slides/{n}")
    content = Content(topic=content.topic, total_slides=len(slides), slides=slides,
                      provider=content.provider, notes=content.notes)
    save_content(gen["id"], content)
    return content.model_dump(exclude={"provider", "notes"})


def edit_script(ident: str, owner: str, slide_scripts: list[Any]) -> dict[str, Any]:
    gen = find_generation(ident, owner)
    _require_idle(gen)
    script = load_script(gen["id"])
    numbers = sorted(s.slide_number for s in slide_scripts)
    if numbers != list(range(1, len(script.slide_scripts) + 1)):
        raise Conflict(f"give slide_scripts for slides 1..{len(script.slide_scripts)}, each once")
    ordered = sorted(slide_scripts, key=lambda s: s.slide_number)
    script = Script(topic=script.topic, language=script.language, slide_scripts=ordered,
                    total_duration=script.total_duration, timed=False)
    save_script(gen["id"], script)
    return script.model_dump(exclude={"timed"})


def edit_slide(ident: str, owner: str, number: int, edit: SlideEdit,
               provider: ProviderChoice) -> dict[str, Any]:
    """Change one slide and re-render: only that slide is narrated and drawn again."""
    gen = find_generation(ident, owner)
    _require_idle(gen)
    content, script = load_content(gen["id"]), load_script(gen["id"])
    if not 1 <= number <= len(content.slides):
        raise Missing(f"slide {number} does not exist: the video has {len(content.slides)} slides")
    slide = content.slides[number - 1]
    if edit.title is not None:
        slide.title = edit.title
    if edit.content_text is not None:
        slide.content_text = edit.content_text
    if edit.narration_text is not None:
        script.slide_scripts[number - 1].narration_text = edit.narration_text
        script.timed = False
    save_content(gen["id"], content)
    save_script(gen["id"], script)
    return start_render(gen["id"], owner, provider)


# --- presenting ------------------------------------------------------------------------------

def signed_video_url(gen: dict[str, Any]) -> str:
    """A link to the video that plays without an Authorization header (a <video> element)."""
    name = video_filename(gen["id"])
    query = auth.sign_path(gen["owner"], VIDEO_ROUTE + name, get_settings().presign_ttl_s)
    return f"{VIDEO_ROUTE}{name}?expires={query['expires']}&sig={query['sig']}"


def generation_view(gen: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"generation_id": gen["id"], "topic": gen["topic"],
                            "options": gen.get("options"), "revision": gen.get("revision", 0)}
    if gen.get("video_ready"):
        view.update(video_filename=video_filename(gen["id"]), video_url=signed_video_url(gen),
                    duration=gen.get("duration"))
    return view


@jobs.presents(KIND)
def present_job(job: dict[str, Any]) -> dict[str, Any]:
    """A generate job's own fields: its generation, and the video once there is one."""
    try:
        gen = Table().get(Keys.generation(job["generation_id"]))
    except (NotFound, KeyError):
        return {}
    view = generation_view(gen)
    if job["status"] == jobs.COMPLETED and isinstance(job.get("result"), dict):
        view.update({k: job["result"][k] for k in ("reused_slides", "rendered_slides", "notes")
                     if k in job["result"]})
    return view


def video_for(filename: str, owner: str | None, *, expires: str | None = None,
              sig: str | None = None) -> tuple[dict[str, Any], str]:
    """(generation, S3 key) of a video the caller may see: theirs by name, or by a valid
    signed link. NotFound for every other name (no paths: only `<gid>_final.mp4`)."""
    match = _VIDEO_NAME.match(filename)
    if not match:
        raise NotFound(f"Video not found: {filename}")
    try:
        gen = Table().get(Keys.generation(match.group(1)))
    except NotFound as exc:
        raise NotFound(f"Video not found: {filename}") from exc
    allowed = gen.get("owner") == owner or auth.verify_signed_path(
        gen.get("owner", ""), VIDEO_ROUTE + filename, expires, sig)
    if not allowed or not gen.get("video_ready"):
        raise NotFound(f"Video not found: {filename}")
    return gen, gen["video_key"]


def voices() -> dict[str, Any]:
    from reelforge.media.tts import LANGUAGES, voices_for

    return {"languages": {
        language: [{"id": v.id, "name": v.name, "provider": v.provider} for v in voices_for(language)]
        for language in LANGUAGES},
        "notes": "With an X-Gemini-Key the narration is spoken by Gemini TTS where the key allows; "
                 "these offline voices are the fallback and the default."}

