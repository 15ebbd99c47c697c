"""The script studio (seed 004): projects as the studio shows them, script writing, and the
studio's jobs with the progress events both SSE and the WebSocket carry.

A studio project is the shared project record (projects.service) with the studio's fields
on it. Every long operation is a job (kind "studio", `jobType` script | script-long | audio |
image | video | video-batch | export) run by one of the studio's state machines: `script`
(writing) and `media` (sentence media and the exported video). `report`, `finish` and
`fail` are the one event producer: they write the job record (what SSE polls) and publish
the same event to the project's WebSocket subscribers (local sockets or API Gateway).
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from reelforge import jobs, realtime
from reelforge.ai.choice import ProviderChoice
from reelforge.blobs import Blobs
from reelforge.errors import BadRequest, Conflict, Missing
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, now_iso
from reelforge.studio import cast, outlines, sections, sentences
from reelforge.studio.catalog import DEFAULT_MODEL, DEFAULT_STYLE
from reelforge.studio.schemas import LEGACY_DEFAULT_MODEL, LEGACY_DEFAULT_VOICE
from reelforge.studio.writers.base import CastMember, ScriptBrief, Writer
from reelforge.workflow import start_execution

KIND = "studio"
DRAFT, GENERATING, READY = "draft", "generating", "ready"
SCRIPT_JOBS = ("script", "script-long")
DEFAULTS = {"targetDuration": 8, "modelId": DEFAULT_MODEL, "styleId": DEFAULT_STYLE, "visualStyle": "cinematic",
            "voiceId": None}
_FIELDS = ("topic", "targetDuration", "modelId", "styleId", "visualStyle", "voiceId")
_PROJECT_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
# The OpenAPI's word for check_project_id (which answers the contract's 400 INVALID_ID itself).
PROJECT_ID_SCHEMA = {"pattern": _PROJECT_ID.pattern, "maxLength": 64}


# --- projects ----------------------------------------------------------------------------------

def source_key(project_id: str) -> str:
    return f"{sentences.media_prefix(project_id)}source.txt"


def create_project(owner: str, fields: dict[str, Any]) -> dict[str, Any]:
    source = fields.pop("sourceText", None)
    values = {**DEFAULTS, **{k: v for k, v in fields.items() if k in _FIELDS and v is not None}}
    item = projects.create(owner, fields["name"], extra={
        **_normalised(values), "studioStatus": DRAFT, "hasSourceText": bool(source),
        sections.PROJECT_LIST: [], sections.PROJECT_REV: 0})
    if source:
        Blobs().put_bytes(source_key(item["id"]), source.encode(), "text/plain; charset=utf-8")
    return item


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    """The original's defaults are names it had; here they mean "the default"."""
    out = dict(values)
    if out.get("voiceId") == LEGACY_DEFAULT_VOICE:
        out["voiceId"] = None
    if out.get("modelId") == LEGACY_DEFAULT_MODEL:
        out["modelId"] = DEFAULT_MODEL
    return out


def update_project(owner: str, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply the fields the request set; a null topic or sourceText clears it."""
    project = projects.get(owner, project_id)
    values = _normalised({k: v for k, v in changes.items() if k in (*_FIELDS, "name")})
    if "sourceText" in changes:
        if changes["sourceText"] is None:
            Blobs().delete(source_key(project_id))
        else:
            Blobs().put_bytes(source_key(project_id), changes["sourceText"].encode(), "text/plain; charset=utf-8")
        values["hasSourceText"] = changes["sourceText"] is not None
    if not values:
        return project
    return Table().update(Keys.project(project["id"]), {**values, "updated_at": now_iso()})


def check_project_id(project_id: str) -> None:
    if not _PROJECT_ID.match(project_id) or len(project_id) > 64:
        raise BadRequest("Invalid project id", code="INVALID_ID")


def project_view(item: dict[str, Any]) -> dict[str, Any]:
    """The studio's fields of a project (camelCase, the original's defaults filled in)."""
    out = {"id": item["id"], "name": item["name"],
           **{k: item.get(k, DEFAULTS.get(k)) for k in _FIELDS},
           "status": item.get("studioStatus", DRAFT), "hasSourceText": bool(item.get("hasSourceText")),
           "createdAt": item.get("created_at"), "updatedAt": item.get("updated_at")}
    out["voiceId"] = out["voiceId"] or default_voice()
    if item.get("exportKey"):
        out["export"] = {"videoUrl": Blobs().presign_get(item["exportKey"], content_type="video/mp4"),
                         "duration": item.get("exportDuration"), "exportedAt": item.get("exportedAt")}
    return out


def default_voice() -> str:
    from reelforge.media.tts import get_voice

    return get_voice(None, "english").id


def list_projects(owner: str) -> list[dict[str, Any]]:
    out = []
    for item in projects.list_for_owner(owner):
        section_items = sections.of_project(item)
        counts = sum(len(s.get(sentences.SECTION_LIST) or []) for s in section_items)
        out.append({**project_view(item), "sectionCount": len(section_items), "sentenceCount": counts})
    return sorted(out, key=lambda p: p["updatedAt"] or "", reverse=True)


def full_project(owner: str, project_id: str) -> dict[str, Any]:
    item = projects.get(owner, project_id)
    stored = sentences.of_project(project_id)
    out = project_view(item)
    out["sections"] = [sections.view(s, sentences.ordered(s, stored.get(s["id"], []))) for s in sections.of_project(item)]
    out["cast"] = [cast.character_view(c) for c in cast.cast_of(item)]
    if item.get("hasSourceText"):
        out["sourceText"] = Blobs().get_bytes(source_key(project_id)).decode()
    return out


@projects.deletes_with_project
def _delete_jobs(project: dict[str, Any]) -> None:
    """A studio project's jobs go with it (their records live outside its partition)."""
    table = Table()
    for ref in table.query_partition(project["PK"], "STUDIOJOB#"):
        with suppress(NotFound):  # a running job ends for its subscribers before it goes
            job = jobs.get(ref["jobId"])
            if job["status"] not in jobs.TERMINAL:
                fail(job, "the project was deleted")
        for item in table.query_partition(f"JOB#{ref['jobId']}"):
            table.delete({"PK": item["PK"], "SK": item["SK"]})


# --- writing --------------------------------------------------------------------------------------

def brief(project: dict[str, Any], topic: str | None = None, minutes: float | None = None,
          visual_style: str | None = None) -> ScriptBrief:
    source = None
    if project.get("hasSourceText"):
        source = Blobs().get_bytes(source_key(project["id"])).decode()
    members = tuple(CastMember(c["name"], c.get("description") or "") for c in cast.cast_of(project))
    return ScriptBrief(topic=topic or project.get("topic") or project["name"],
                       target_minutes=float(minutes or project.get("targetDuration") or DEFAULTS["targetDuration"]),
                       visual_style=visual_style or project.get("visualStyle") or "cinematic",
                       source_text=source, cast=members)


def writer(provider: ProviderChoice) -> Writer:
    from reelforge.studio.writers.registry import writer as make
    from reelforge.workflow import provider_key

    key = provider_key(provider.name, provider.sealed_key)
    s = get_settings()
    return make(provider.name, api_key=key, model=s.gemini_model, base_url=s.gemini_base_url)


def quick_generate(owner: str, project_id: str, topic: str, minutes: int, visual_style: str,
                   provider: ProviderChoice) -> dict[str, Any]:
    """Write a script now and make it the project's; the old sections stay until it exists."""
    project = projects.get(owner, project_id)
    claim_script_writing(project)  # not while a script job writes this project's sections
    try:
        draft = writer(provider).script(brief(project, topic, minutes, visual_style))
        replacing = sections.ids_of(project)
        speakers = cast.speakers(project)
        staged = [sections.stage(project, s, speakers) for s in draft.sections]
        sections.publish(project_id, [s["id"] for s in staged], replacing)
    except Exception:
        release_script_writing(project_id, project.get("studioStatus") or DRAFT)
        raise
    Table().update(Keys.project(project_id), {"topic": topic, "targetDuration": minutes, "visualStyle": visual_style,
                                              "studioStatus": READY, "updated_at": now_iso()})
    total = sum(s["sentenceCount"] for s in staged)
    return {"title": draft.title, "sections": [{"id": s["id"], "title": s["title"], "sentenceCount": s["sentenceCount"]}
                                               for s in staged],
            "totalSentences": total, "estimatedDurationMinutes": estimated_minutes(staged),
            **({"note": draft.note} if draft.note else {})}


def estimated_minutes(section_items: list[dict[str, Any]]) -> float:
    from reelforge.studio.writers.base import WORDS_PER_MINUTE

    words = 0
    for s in section_items:
        words += sum(len(x["text"].split()) for x in sentences.stored_of(s))
    return round(words / WORDS_PER_MINUTE, 1)


def generate_outline(owner: str, project_id: str, topic: str, minutes: int, visual_style: str,
                     provider: ProviderChoice, *, status: str = outlines.DRAFT) -> dict[str, Any]:
    project = projects.get(owner, project_id)
    draft = writer(provider).outline(brief(project, topic, minutes, visual_style))
    return outlines.create(project, draft, topic=topic, visual_style=visual_style, status=status)


def regenerate_section(owner: str, outline_id: str, index: int, provider: ProviderChoice,
                       project_id: str | None = None) -> dict[str, Any]:
    """Rewrite the script section written for outline section `index`; its old sentences stay
    until the new ones exist (the original deleted them first)."""
    outline = outlines.get_in(owner, project_id, outline_id) if project_id else outlines.get(owner, outline_id)
    if not 0 <= index < len(outline["sections"]):
        raise BadRequest("Invalid section index")
    entry = outline["sections"][index]
    project = projects.get(owner, outline["project_id"])
    if project.get("studioStatus") == GENERATING:
        raise Conflict("a script is being written for this project; regenerate when it has finished")
    if not entry.get("sectionId") or entry["sectionId"] not in sections.ids_of(project):
        raise Missing("Section not found in database: write the script from this outline first")
    claim_script_writing(project)  # one writer of the project's sections at a time
    try:
        return _rewrite_section(project, outline, index, entry, provider)
    finally:
        release_script_writing(project["id"], READY)


def _rewrite_section(project: dict[str, Any], outline: dict[str, Any], index: int, entry: dict[str, Any],
                     provider: ProviderChoice) -> dict[str, Any]:
    result = writer(provider).section(brief(project, outline["topic"], outline["totalTargetMinutes"],
                                            outline["visualStyle"]),
                                      outlines.as_draft(outline), index, running_summary=outline.get("runningSummary") or "",
                                      # as before this section: its own points are not "covered" yet
                                      covered_topics=[t for t in outline.get("coveredTopics") or []
                                                      if t not in set(entry.get("keyPoints") or [])])
    try:
        new = sections.replace_one(project, entry["sectionId"], result.section, cast.speakers(project))
    except NotFound:
        raise Missing("Section not found in database: it was deleted while it was rewritten") from None
    entries = list(outline["sections"])
    entries[index] = {**entry, "sectionId": new["id"], "title": entry["title"], "status": "completed"}
    outlines.update(outline, {"sections": entries})
    count = new["sentenceCount"]
    return {"sectionIndex": index, "sectionTitle": new["title"], "sentenceCount": count,
            "durationMinutes": estimated_minutes([new])}


def expand(owner: str, section_id: str, mode: str, prompt: str | None, count: int,
           after: str | None, provider: ProviderChoice) -> dict[str, Any]:
    """Suggestions that continue a section after `after` (None: at its end); nothing is saved."""
    section = sections.get(owner, section_id)
    existing = sentences.of_section(section)
    ids = [s["id"] for s in existing]
    if after is not None and after not in ids:
        raise BadRequest("insertAfterSentenceId is not a sentence of this section")
    project = projects.get(owner, section["project_id"])
    anchor = next((s["text"] for s in existing if s["id"] == after), None) if after else (
        existing[-1]["text"] if existing else None)
    drafts = writer(provider).expand(brief(project), section_title=section["title"],
                                     context=[s["text"] for s in existing], after=anchor, count=count,
                                     mode=mode, prompt=prompt)
    position = ids.index(after) + 1 if after is not None else len(ids)
    from reelforge.studio.writers.local import GENERIC_LABEL

    # The local writer marks lines it had to make up (the source text ran out); the mark is
    # for us, not for the narrator: it becomes a note.
    generic = sum(d.text.startswith(GENERIC_LABEL) for d in drafts)
    out = {"sectionId": section_id, "sectionTitle": section["title"], "insertPosition": position,
           "generatedSentences": [{"text": d.text.removeprefix(GENERIC_LABEL), "imagePrompt": d.image_prompt,
                                   "videoPrompt": d.video_prompt} for d in drafts]}
    if generic:
        out["note"] = (f"local provider: {generic} of {len(drafts)} sentence(s) are a generic continuation "
                       "(the project's text has no more unused sentences here)")
    return out


# --- jobs ---------------------------------------------------------------------------------------

def start_job(project: dict[str, Any], job_type: str, machine_arn: str, payload: dict[str, Any], *,
              sentence_id: str | None = None, outline_id: str | None = None, total_steps: int | None = None,
              message: str = "Queued") -> dict[str, Any]:
    """A studio job, listed under its project and started on its state machine."""
    job = jobs.create(project["owner"], KIND, project_id=project["id"], message=message, extra={
        "jobType": job_type, "sentenceId": sentence_id, "outlineId": outline_id, "totalSteps": total_steps,
        "currentStep": 0, "stepName": "queued"})
    Table().put({**Keys.child("studiojob", project["id"], f"{job['createdAt']}#{job['id']}"), "type": "studio_job",
                 "jobId": job["id"], "jobType": job_type})
    Table().update(Keys.project(project["id"]), {"studioJobId": job["id"]})
    start_execution(machine_arn, job["id"], {"project_id": project["id"], "owner": project["owner"],
                                             "job_type": job_type, **payload})
    return job


def start_short_script(owner: str, project_id: str, topic: str, minutes: int,
                       provider: ProviderChoice) -> dict[str, Any]:
    project = projects.get(owner, project_id)
    claim_script_writing(project)
    try:
        return start_job(project, "script", get_settings().script_state_machine_arn, {
            "mode": "short", "topic": topic, "minutes": minutes, "provider": provider.model_dump(),
            "replacing": sections.ids_of(project)}, total_steps=4, message="Script generation started")
    except Exception:
        release_script_writing(project_id, project.get("studioStatus") or DRAFT)
        raise


def start_long_script(project: dict[str, Any], body: Any, provider: ProviderChoice) -> tuple[dict[str, Any], int]:
    """(job, sections to write): from the given outline, or (auto) from one written now."""
    owner = project["owner"]
    if body.mode == "from-outline":
        outline = outlines.get_in(owner, project["id"], body.outline_id)
    claim_script_writing(project)
    try:
        if body.mode == "from-outline":
            outline = outlines.approve(outline)
        else:
            outline = generate_outline(owner, project["id"], body.topic, body.target_duration_minutes,
                                       body.visual_style, provider, status=outlines.APPROVED)
        total = len(outline["sections"])
        job = start_job(project, "script-long", get_settings().script_state_machine_arn, {
            "mode": "long", "outline_id": outline["id"], "provider": provider.model_dump(),
            "replacing": sections.ids_of(project)}, outline_id=outline["id"], total_steps=total,
            message="Long script generation started")
    except Exception:
        release_script_writing(project["id"], project.get("studioStatus") or DRAFT)
        raise
    return job, total


def check_speaker(project: dict[str, Any], speaker_id: str | None) -> None:
    if speaker_id and speaker_id not in {c["id"] for c in cast.cast_of(project)}:
        raise BadRequest("speakerId must be a character in the project's cast")


def start_sentence_media(owner: str, sentence_id: str, kind: str, provider: ProviderChoice) -> dict[str, Any]:
    """Make one sentence's `kind` again (a video also makes a missing or stale audio/image)."""
    item = sentences.locate(owner, sentence_id)
    if not item["text"].strip():
        raise BadRequest("this sentence has no text yet")
    project = projects.get(owner, item["project_id"])
    _require_no_script_job(project)
    sentences.claim(item)  # one media job per sentence: pending|completed|failed -> generating
    try:
        return start_job(project, kind, get_settings().media_state_machine_arn, {
            "scope": "sentence", "sentence_id": sentence_id, "kind": kind, "export": None,
            "provider": provider.model_dump(), "config": _media_config()}, sentence_id=sentence_id)
    except Exception:
        sentences.set_status(item, sentences.PENDING)
        raise


def start_project_media(owner: str, project_id: str, provider: ProviderChoice, *, export: Any) -> dict[str, Any]:
    """Every dirty sentence's media (`generate-media`), and with `export` the project's video."""
    project = projects.get(owner, project_id)
    running = latest_media_job(project)
    if running is not None:
        raise Conflict(f"a {running['jobType']} job of this project is running; try again when it has finished")
    _require_no_script_job(project)
    if not any(x["text"].strip() for items in sentences.of_project(project_id).values() for x in items):
        raise BadRequest(f"nothing to {'export' if export is not None else 'make'}: "
                         "the project has no sentence with text yet")
    job_type = "export" if export is not None else "video-batch"
    job = start_job(project, job_type, get_settings().media_state_machine_arn, {
        "scope": "project", "sentence_id": None, "kind": None,
        "export": export.model_dump() if export is not None else None,
        "provider": provider.model_dump(), "config": _media_config()})
    Table().update(Keys.project(project_id), {"mediaJobId": job["id"]})
    return job


def latest_media_job(project: dict[str, Any]) -> dict[str, Any] | None:
    """The project's generate-media or export job while it runs, else None."""
    try:
        job = jobs.get(project["mediaJobId"]) if project.get("mediaJobId") else None
    except NotFound:
        return None
    return job if job is not None and job["status"] not in jobs.TERMINAL else None


def _media_config() -> dict[str, Any]:
    return {"concurrency": get_settings().generate_concurrency}


def _require_no_script_job(project: dict[str, Any]) -> None:
    if project.get("studioStatus") == GENERATING:
        raise Conflict("a script is being written for this project; make media when it has finished")


def claim_script_writing(project: dict[str, Any]) -> None:
    """One writer of a project's sections at a time (draft|ready -> generating), and none while
    its media are made (the sentences they are made for would be replaced)."""
    running = latest_media_job(project)
    if running is not None:
        raise Conflict(f"a {running['jobType']} job of this project is running; write when it has finished")
    try:
        Table().update(Keys.project(project["id"]), {"studioStatus": GENERATING, "updated_at": now_iso()},
                       condition="attribute_not_exists(#s) OR #s <> :g",
                       condition_values={":g": GENERATING}, condition_names={"#s": "studioStatus"})
    except ConditionFailed as exc:
        raise Conflict("a script is already being written for this project") from exc


def release_script_writing(project_id: str, status: str = READY) -> None:
    with suppress(ConditionFailed):  # the project was deleted meanwhile
        Table().update(Keys.project(project_id), {"studioStatus": status, "updated_at": now_iso()})


def project_jobs(owner: str, project_id: str) -> list[dict[str, Any]]:
    projects.get(owner, project_id)
    out = []
    for ref in Table().query_partition(f"PROJECT#{project_id}", "STUDIOJOB#"):
        try:
            out.append(jobs.get(ref["jobId"], owner))
        except NotFound:
            continue  # expired
    return list(reversed(out))


def latest_job(project: dict[str, Any]) -> dict[str, Any] | None:
    job_id = project.get("studioJobId")
    if not job_id:
        return None
    try:
        return jobs.get(job_id)
    except NotFound:
        return None


def job_view(job: dict[str, Any]) -> dict[str, Any]:
    """The contract's generation_jobs record."""
    result = job.get("result") or {}
    return {"id": job["id"], "projectId": job.get("project_id"), "sentenceId": job.get("sentenceId"),
            "outlineId": job.get("outlineId"), "jobType": job.get("jobType"), "status": job["status"],
            "progress": round(100 * float(job.get("progress") or 0)), "message": job.get("message"),
            "errorMessage": job.get("error"), "resultFile": result.get("file"),
            "result": result or None, "totalSteps": job.get("totalSteps"),
            "currentStep": job.get("currentStep"), "stepName": job.get("stepName"),
            "startedAt": job.get("startedAt"), "completedAt": job.get("completedAt"), "createdAt": job.get("createdAt")}


@jobs.presents(KIND)
def _present(job: dict[str, Any]) -> dict[str, Any]:
    view = job_view(job)
    return {k: view[k] for k in ("jobType", "projectId", "sentenceId", "outlineId", "totalSteps",
                                 "currentStep", "stepName", "result")}


def _compact(message: dict[str, Any]) -> dict[str, Any]:
    """The contract omits falsy optional keys."""
    required = {"type", "projectId", "jobId", "jobType", "progress", "result", "error"}
    return {k: v for k, v in message.items() if k in required or v}


def report(job: dict[str, Any], progress: int, message: str, *, step_name: str | None = None,
           current_step: int | None = None, total_steps: int | None = None) -> bool:
    """Progress 0-100 of a studio job: on its record and to the WebSocket subscribers."""
    fields = {k: v for k, v in (("stepName", step_name), ("currentStep", current_step),
                                ("totalSteps", total_steps)) if v is not None}
    if not job.get("startedAt"):
        fields["startedAt"] = now_iso()
        job["startedAt"] = fields["startedAt"]
    if not jobs.progress(job["id"], stage=step_name or "running", fraction=progress / 100, message=message,
                         fields=fields):
        return False
    realtime.publish(job["project_id"], _compact({
        "type": "progress", "projectId": job["project_id"], "jobId": job["id"], "jobType": job["jobType"],
        "progress": progress, "sentenceId": job.get("sentenceId"), "message": message,
        "totalSteps": total_steps, "currentStep": current_step, "stepName": step_name}))
    return True


def finish(job: dict[str, Any], result: dict[str, Any], *, section_id: str | None = None,
           message: str = "Completed") -> None:
    jobs.set_fields(job["id"], {"completedAt": now_iso()})
    if jobs.complete(job["id"], result, message=message):
        shown = {k: result[k] for k in ("file", "duration", "startMs", "endMs") if result.get(k) is not None}
        realtime.publish(job["project_id"], _compact({
            "type": "job_complete", "projectId": job["project_id"], "jobId": job["id"], "jobType": job["jobType"],
            "sentenceId": job.get("sentenceId"), "sectionId": section_id, "result": shown}))


def fail(job: dict[str, Any], error: str) -> None:
    jobs.set_fields(job["id"], {"completedAt": now_iso()})
    if jobs.fail(job["id"], error):
        realtime.publish(job["project_id"], _compact({
            "type": "job_failed", "projectId": job["project_id"], "jobId": job["id"], "jobType": job["jobType"],
            "sentenceId": job.get("sentenceId"), "error": error}))


# --- generation-status (SSE) ---------------------------------------------------------------------

def status_event(project: dict[str, Any], job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(event name, data) of seed 004's generation-status stream for the project's latest job,
    whatever its type (the original only followed long scripts)."""
    base = {"jobId": job["id"], "jobType": job.get("jobType")}
    if job["status"] == jobs.FAILED:
        return "error", {**base, "status": "failed", "error": job.get("error") or "failed"}
    outline = None
    if job.get("outlineId"):
        try:
            outline = outlines.get(project["owner"], job["outlineId"])
        except NotFound:
            outline = None
    if job["status"] == jobs.COMPLETED:
        data = {**base, "status": "completed", "result": job.get("result") or {}}
        section_items = sections.of_project(project)
        data["totalSections"] = len(section_items)
        data["totalSentences"] = sum(len(s.get(sentences.SECTION_LIST) or []) for s in section_items)
        if job.get("jobType") in SCRIPT_JOBS:
            data["totalDurationMinutes"] = estimated_minutes(section_items)
        return "complete", data
    data = {**base, "status": job["status"], "percentComplete": round(100 * float(job.get("progress") or 0)),
            "message": job.get("message"), "currentStep": job.get("currentStep"),
            "totalSteps": job.get("totalSteps"), "stepName": job.get("stepName"), "sentenceId": job.get("sentenceId")}
    if outline is not None:
        entries = outline["sections"]
        writing = next((s["title"] for s in entries if s.get("status") == "generating"), None)
        data.update(currentSection=min(int(outline.get("currentSectionIndex") or 0) + 1, len(entries)),
                    totalSections=len(entries), currentSectionTitle=writing or job.get("stepName"),
                    sectionsCompleted=[s["title"] for s in entries if s.get("status") == "completed"])
    return "progress", data

