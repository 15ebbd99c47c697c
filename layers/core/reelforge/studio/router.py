"""The script studio's HTTP routes (seed 004 and the contract's undocumented ones) under
`/api/v1`, in the original's envelope (`api.envelope`), with this API's auth and scopes."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse

from reelforge import __version__, jobs
from reelforge.ai.choice import ProviderChoice, choose_provider
from reelforge.api import websocket
from reelforge.api.deps import SUBMITS_JOB, found, key_header, provider_key, require
from reelforge.api.envelope import no_content, ok
from reelforge.api.openapi import EVENT_STREAM, answers, errors, upload
from reelforge.api.streaming_form import read_form
from reelforge.auth import Principal
from reelforge.projects import service as projects
from reelforge.store import NotFound, now_iso
from reelforge.studio import cast, catalog, outlines, sections, sentences, service
from reelforge.studio.schemas import (
    AiExpand,
    AiExpandAccept,
    Answer,
    CastAdd,
    CastBatch,
    CastBatchResult,
    Character,
    CharacterCreate,
    CharacterUpdate,
    Done,
    Expansion,
    Export,
    ExportBody,
    FullProject,
    GenerateOutline,
    Inserted,
    Job,
    LongScriptQueued,
    MediaQueued,
    Models,
    NewOutline,
    NotedAnswer,
    Outline,
    OutlineEdit,
    Project,
    ProjectCreate,
    Projects,
    ProjectUpdate,
    QuickGenerate,
    QuickScript,
    RegeneratedSection,
    RegenerateSection,
    ScriptLong,
    ScriptShort,
    Section,
    SectionCreate,
    SectionInfo,
    SectionsReorder,
    SectionUpdate,
    Sentence,
    SentenceCreate,
    SentenceMove,
    SentencesReorder,
    SentenceUpdate,
    ShortScriptQueued,
    StudioHealth,
    Styles,
    Voices,
)
from reelforge.studio.writers.base import OutlineSection

router = APIRouter(prefix="/api/v1", tags=["script studio"])
READ, WRITE, AI = require("projects:read"), require("projects:write"), require("ai:generate")
_HEARTBEAT_S, _POLL_S, _IDLE_WAIT_S = 15.0, 1.0, 30.0


def provider(x_gemini_key: str | None = key_header()) -> ProviderChoice:
    return choose_provider(provider_key(x_gemini_key, "X-Gemini-Key"))


def _fields(body: Any) -> dict[str, Any]:
    """A create body's values (camelCase, absent ones left out)."""
    return body.model_dump(by_alias=True, exclude_none=True, mode="json")


def _changes(body: Any) -> dict[str, Any]:
    """An update body's fields the request set (None: clear it; see schemas.Body)."""
    return body.model_dump(by_alias=True, exclude_unset=True, mode="json")


# --- system ----------------------------------------------------------------------------------

@router.get("/health", responses=answers(Answer[StudioHealth], 200, 503))
def health() -> JSONResponse:
    """Public, like the original's: no data but whether the table answers."""
    from reelforge.store import Table

    try:
        Table().get({"PK": "HEALTH", "SK": "PROBE"})
    except NotFound:
        pass
    except Exception:  # noqa: BLE001 - any failure means "database: error"
        return JSONResponse({"success": False, "error": {"code": "SERVICE_UNAVAILABLE", "message": "database unreachable"},
                             "data": {"status": "unhealthy", "timestamp": now_iso(), "version": __version__,
                                      "database": "error"}}, status_code=503)
    return ok({"status": "healthy", "timestamp": now_iso(), "version": __version__, "database": "connected"})


def inngest(request: Request) -> JSONResponse:
    """The original's Inngest endpoint. Jobs here run on AWS Step Functions and start from the
    generation routes; this answers what it runs instead of serving the Inngest protocol."""
    workflows = {"script": "outline -> sections one after another (generate-script, generate-script-short)",
                 "media": "sentence audio, image, video (generate-*), and the exported video (export)"}
    if request.method == "POST":
        return JSONResponse({"success": False, "error": {
            "code": "NOT_SUPPORTED",
            "message": "jobs start from the generation routes (they run on AWS Step Functions, not Inngest)"}},
            status_code=400)
    return ok({"orchestrator": "aws-stepfunctions", "functions": workflows},
              message="reelforge runs its workflows on AWS Step Functions; nothing to register")


# The Inngest platform's endpoint, not a client's: kept out of the OpenAPI.
for _method in ("GET", "PUT", "POST"):
    router.add_api_route("/inngest", inngest, methods=[_method], operation_id=f"inngest_{_method.lower()}",
                         include_in_schema=False)


@router.websocket("/ws")
async def ws(socket: WebSocket) -> None:
    """Real-time job events for the projects a connection subscribes to (its user's only);
    authenticate with `?token=` or a first `{type: "auth", token}` message."""
    await websocket.serve(socket)


@router.get("/models", responses=answers(Answer[Models]))
def models(p: Principal = Depends(READ)) -> JSONResponse:
    return ok({"models": catalog.models(), "default": catalog.DEFAULT_MODEL})


@router.get("/styles", responses=answers(Answer[Styles]))
def styles(p: Principal = Depends(READ)) -> JSONResponse:
    return ok({"styles": catalog.styles(), "default": catalog.DEFAULT_STYLE})


@router.get("/voices", responses=answers(Answer[Voices]))
def voices(p: Principal = Depends(READ)) -> JSONResponse:
    from reelforge.media.tts import VOICES

    return ok({"voices": [{"id": v.id, "name": v.name, "language": v.language, "provider": v.provider}
                          for v in VOICES], "default": service.default_voice()})


# --- projects -----------------------------------------------------------------------------------

@router.get("/projects", responses=answers(Answer[Projects]))
def list_projects(p: Principal = Depends(READ)) -> JSONResponse:
    return ok({"projects": service.list_projects(p.user_id)})


@router.post("/projects", status_code=201, responses=answers(Answer[Project], 201))
def create_project(body: ProjectCreate, p: Principal = Depends(WRITE)) -> JSONResponse:
    return ok(service.project_view(service.create_project(p.user_id, _fields(body))), status=201)


@router.get("/projects/{project_id}", responses=answers(Answer[FullProject]))
def get_project(project_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Project"):
        return ok(service.full_project(p.user_id, project_id))


@router.put("/projects/{project_id}", responses=answers(Answer[Project]))
def update_project(project_id: str, body: ProjectUpdate, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Project"):
        return ok(service.project_view(service.update_project(p.user_id, project_id, _changes(body))))


@router.delete("/projects/{project_id}", status_code=204, responses=errors(400))  # INVALID_ID
def delete_project(project_id: str = PathParam(json_schema_extra=service.PROJECT_ID_SCHEMA),
                   p: Principal = Depends(WRITE)) -> Response:
    """The project with its sections, sentences, outlines, cast, jobs and media."""
    service.check_project_id(project_id)
    with found("Project"):
        projects.delete(p.user_id, project_id)
    return no_content()


# --- cast and characters --------------------------------------------------------------------------

@router.get("/projects/{project_id}/cast", responses=answers(Answer[list[Character]]))
def get_cast(project_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Project"):
        project = projects.get(p.user_id, project_id)
    return ok([cast.character_view(c) for c in cast.cast_of(project)])


@router.post("/projects/{project_id}/cast", status_code=201,
             responses=answers(NotedAnswer[list[Character]], 201))
def add_cast(project_id: str, body: CastAdd, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Project"):
        project = projects.get(p.user_id, project_id)
    with found("Character"):
        cast.add_to_cast(project, body.character_id)
    return ok([cast.character_view(c) for c in cast.cast_of(project)], message="Character added to cast", status=201)


@router.post("/projects/{project_id}/cast/batch", status_code=201,
             responses=answers(NotedAnswer[CastBatchResult], 201))
def add_cast_batch(project_id: str, body: CastBatch, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Project"):
        project = projects.get(p.user_id, project_id)
    added, skipped = cast.add_many_to_cast(project, body.character_ids)
    return ok({"added": added, "skipped": skipped},
              message=f"{len(added)} character(s) added to cast, {len(skipped)} skipped", status=201)


@router.delete("/projects/{project_id}/cast/{character_id}", status_code=204)
def remove_cast(project_id: str, character_id: str, p: Principal = Depends(WRITE)) -> Response:
    with found("Project"):
        project = projects.get(p.user_id, project_id)
    with found("Character in cast"):
        cast.remove_from_cast(project, character_id)
    return no_content()


@router.get("/characters", responses=answers(Answer[list[Character]]))
def list_characters(p: Principal = Depends(READ)) -> JSONResponse:
    return ok([cast.character_view(c) for c in cast.characters(p.user_id)])


@router.post("/characters", status_code=201, responses=answers(Answer[Character], 201))
def create_character(body: CharacterCreate, p: Principal = Depends(WRITE)) -> JSONResponse:
    return ok(cast.character_view(cast.create_character(p.user_id, _fields(body))), status=201)


@router.get("/characters/{character_id}", responses=answers(Answer[Character]))
def get_character(character_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Character"):
        return ok(cast.character_view(cast.get_character(p.user_id, character_id)))


@router.put("/characters/{character_id}", responses=answers(Answer[Character]))
def update_character(character_id: str, body: CharacterUpdate, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Character"):
        return ok(cast.character_view(cast.update_character(p.user_id, character_id, _changes(body))))


@router.delete("/characters/{character_id}", status_code=204)
def delete_character(character_id: str, p: Principal = Depends(WRITE)) -> Response:
    with found("Character"):
        cast.delete_character(p.user_id, character_id)
    return no_content()


@router.post("/characters/{character_id}/images", status_code=201, openapi_extra=upload("image"),
             responses=answers(NotedAnswer[Character], 201))
async def upload_character_image(character_id: str, request: Request, p: Principal = Depends(WRITE)) -> JSONResponse:
    """multipart/form-data with an `image` part: PNG, JPEG or WebP (by content), <= 5 MB,
    at most 5 per character. (Through API Gateway a Lambda takes at most 6 MB of request.)"""
    with found("Character"):
        await asyncio.to_thread(cast.get_character, p.user_id, character_id)
    with tempfile.TemporaryDirectory(prefix="character-") as tmp:
        form = await read_form(request, Path(tmp), file_field="image", max_file_bytes=cast.MAX_IMAGE_BYTES)
        if form.file is None or form.file.size == 0:
            raise HTTPException(400, "an image file is required (multipart field `image`)")
        with found("Character"):
            item = await asyncio.to_thread(cast.add_image, p.user_id, character_id, form.file.path, form.file.size)
    return ok(cast.character_view(item), message="Image uploaded", status=201)


@router.delete("/characters/{character_id}/images/{index}", responses=answers(Answer[Character]))
def delete_character_image(character_id: str, index: int, p: Principal = Depends(WRITE)) -> JSONResponse:
    """Remove the index-th uploaded image (0-based, in upload order)."""
    with found("Image"):
        return ok(cast.character_view(cast.delete_image(p.user_id, character_id, index)))


# --- generation ---------------------------------------------------------------------------------

@router.post("/projects/{project_id}/quick-generate", status_code=201,
             responses=answers(NotedAnswer[QuickScript], 201))
def quick_generate(project_id: str, body: QuickGenerate, p: Principal = Depends(AI),
                   choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    """A script written now; it replaces the project's sections once it exists."""
    with found("Project"):
        data = service.quick_generate(p.user_id, project_id, body.topic, body.target_duration_minutes,
                                      body.visual_style, choice)
    return ok(data, message="Script generated", status=201)


@router.post("/projects/{project_id}/generate-outline", status_code=201,
             responses=answers(Answer[NewOutline], 201))
def generate_outline(project_id: str, body: GenerateOutline, p: Principal = Depends(AI),
                     choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    with found("Project"):
        outline = service.generate_outline(p.user_id, project_id, body.topic, body.target_duration_minutes,
                                           body.visual_style, choice)
    return ok({"outlineId": outline["id"], "title": outline["title"], "totalTargetMinutes": outline["totalTargetMinutes"],
               "sections": outline["sections"], **({"note": outline["note"]} if outline.get("note") else {})},
              status=201)


@router.post("/projects/{project_id}/generate-script-short", dependencies=[SUBMITS_JOB], status_code=202,
             responses=answers(Answer[ShortScriptQueued], 202))
def generate_script_short(project_id: str, body: ScriptShort, p: Principal = Depends(AI),
                          choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    with found("Project"):
        job = service.start_short_script(p.user_id, project_id, body.topic, body.target_duration, choice)
    return ok({"jobId": job["id"], "status": "queued", "message": "Script generation started",
               "estimatedDurationSeconds": 10}, status=202)


@router.post("/projects/{project_id}/generate-script", dependencies=[SUBMITS_JOB], status_code=202,
             responses=answers(Answer[LongScriptQueued], 202))
def generate_script(project_id: str, body: ScriptLong, p: Principal = Depends(AI),
                    choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    """Long-form: section after section from an outline (`from-outline`), or from one written
    first (`auto`)."""
    with found("Project"):
        project = projects.get(p.user_id, project_id)
    with found("Outline"):
        job, total = service.start_long_script(project, body, choice)
    return ok({"jobId": job["id"], "status": "queued", "outlineId": job.get("outlineId"), "totalSections": total,
               "estimatedDurationSeconds": total * 20}, status=202)


@router.get("/projects/{project_id}/generation-status", response_class=StreamingResponse,
            responses=EVENT_STREAM)
async def generation_status(project_id: str, p: Principal = Depends(READ)) -> StreamingResponse:
    """SSE: `connected`, then `progress` while the project's latest job runs (any job type),
    and `complete` or `error`, after which the stream ends. With no job yet it waits up to
    30 s for one (with heartbeats), then sends `idle` and ends (the original stayed silent)."""
    with found("Project"):
        await asyncio.to_thread(projects.get, p.user_id, project_id)
    return StreamingResponse(_status_events(p.user_id, project_id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "Connection": "keep-alive",
                                      "X-Accel-Buffering": "no"})


async def _status_events(owner: str, project_id: str, max_seconds: float = 900) -> AsyncIterator[str]:
    yield _sse("connected", {"projectId": project_id})
    loop = asyncio.get_running_loop()
    started = quiet_since = loop.time()
    last_seq = None
    while loop.time() - started < max_seconds:
        try:
            project = await asyncio.to_thread(projects.get, owner, project_id)
        except NotFound:
            yield _sse("error", {"projectId": project_id, "status": "failed", "error": "Project deleted"})
            return
        job = await asyncio.to_thread(service.latest_job, project)
        if job is None:
            if loop.time() - started >= _IDLE_WAIT_S:
                yield _sse("idle", {"projectId": project_id, "message": "No generation job for this project"})
                return
        elif job.get("event_seq") != last_seq or job["status"] in jobs.TERMINAL:
            last_seq = job.get("event_seq")
            event, data = await asyncio.to_thread(service.status_event, project, job)
            yield _sse(event, data)
            quiet_since = loop.time()
            if event != "progress":
                return
        if loop.time() - quiet_since >= _HEARTBEAT_S:
            yield ": heartbeat\n\n"
            quiet_since = loop.time()
        await asyncio.sleep(_POLL_S)
    yield ": stream time limit reached, reconnect\n\n"


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


# --- outlines -----------------------------------------------------------------------------------

@router.get("/projects/{project_id}/outlines", responses=answers(Answer[list[Outline]]))
def list_outlines(project_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Project"):
        projects.get(p.user_id, project_id)
    return ok([outlines.view(o) for o in outlines.of_project(project_id)])


@router.get("/projects/{project_id}/outlines/{outline_id}", responses=answers(Answer[Outline]))
def get_outline(project_id: str, outline_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Outline"):
        return ok(outlines.view(outlines.get_in(p.user_id, project_id, outline_id)))


@router.get("/outlines/{outline_id}", responses=answers(Answer[Outline]))
def get_outline_by_id(outline_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Outline"):
        return ok(outlines.view(outlines.get(p.user_id, outline_id)))


@router.put("/projects/{project_id}/outlines/{outline_id}", responses=answers(Answer[Outline], 200, 409))
def edit_outline(project_id: str, outline_id: str, body: OutlineEdit, p: Principal = Depends(WRITE)) -> JSONResponse:
    """Only while the outline is a draft (400 INVALID_STATE after)."""
    edited = None if body.sections is None else [
        OutlineSection(title=s.title, description=s.description, target_minutes=s.target_minutes,
                       key_points=s.key_points) for s in body.sections]
    with found("Outline"):
        return ok(outlines.view(outlines.edit(p.user_id, project_id, outline_id, body.title, edited)))


@router.post("/outlines/{outline_id}/regenerate-section", responses=answers(Answer[RegeneratedSection]))
def regenerate_section(outline_id: str, body: RegenerateSection, p: Principal = Depends(AI),
                       choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    """The documented path; the original served it nested under the project (also here)."""
    with found("Outline"):
        return ok(service.regenerate_section(p.user_id, outline_id, body.section_index, choice))


@router.post("/projects/{project_id}/outlines/{outline_id}/regenerate-section",
             responses=answers(Answer[RegeneratedSection]))
def regenerate_section_nested(project_id: str, outline_id: str, body: RegenerateSection,
                              p: Principal = Depends(AI), choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    with found("Outline"):
        return ok(service.regenerate_section(p.user_id, outline_id, body.section_index, choice, project_id))


# --- sections ------------------------------------------------------------------------------------

@router.post("/sections", status_code=201, responses=answers(Answer[Section], 201, 404))
def create_section(body: SectionCreate, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Project"):
        project = projects.get(p.user_id, body.project_id)
    return ok(sections.view(sections.create(project, body.title, body.order), []), status=201)


@router.post("/sections/reorder", responses=answers(Done, 200, 404))
def reorder_sections(body: SectionsReorder, p: Principal = Depends(WRITE)) -> JSONResponse:
    """The ids must be exactly the project's sections; a concurrent reorder gets 409."""
    with found("Project"):
        sections.reorder(p.user_id, body.project_id, body.section_ids)
    return ok(message="Sections reordered successfully")


@router.get("/sections/{section_id}", responses=answers(Answer[Section]))
def get_section(section_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Section"):
        section = sections.get(p.user_id, section_id)
    return ok(sections.view(section, sentences.of_section(section)))


@router.put("/sections/{section_id}", responses=answers(Answer[SectionInfo]))
def rename_section(section_id: str, body: SectionUpdate, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Section"):
        return ok(sections.view(sections.rename(p.user_id, section_id, body.title)))


@router.delete("/sections/{section_id}", status_code=204, responses=errors(409))
def delete_section(section_id: str, p: Principal = Depends(WRITE)) -> Response:
    with found("Section"):
        sections.delete(p.user_id, section_id)
    return no_content()


@router.post("/sections/{section_id}/ai-expand", responses=answers(Answer[Expansion]))
def ai_expand(section_id: str, body: AiExpand, p: Principal = Depends(AI),
              choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    """Suggested sentences to insert; nothing is saved until .../ai-expand/accept."""
    with found("Section"):
        return ok(service.expand(p.user_id, section_id, body.mode, body.prompt, body.sentence_count,
                                 body.insert_after_sentence_id, choice))


@router.post("/sections/{section_id}/ai-expand/accept", status_code=201, responses=answers(Answer[Inserted], 201))
def ai_expand_accept(section_id: str, body: AiExpandAccept, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Section"):
        section = sections.get(p.user_id, section_id)
        project = projects.get(p.user_id, section["project_id"])
    drafts = [_fields(d) for d in body.generated_sentences]
    inserted = sentences.insert(section, project, drafts, body.insert_after_sentence_id)
    return ok({"sectionId": section_id, "insertedCount": len(inserted),
               "sentences": [sentences.view(s) for s in inserted]}, status=201)


# --- sentences -----------------------------------------------------------------------------------

@router.post("/sentences", status_code=201, responses=answers(Answer[Sentence], 201, 404))
def create_sentence(body: SentenceCreate, p: Principal = Depends(WRITE)) -> JSONResponse:
    with found("Section"):
        section = sections.get(p.user_id, body.section_id)
        project = projects.get(p.user_id, section["project_id"])
    fields = _fields(body)
    service.check_speaker(project, fields.get("speakerId"))
    return ok(sentences.view(sentences.create(section, project, body.text, body.order, fields)), status=201)


@router.post("/sentences/reorder", responses=answers(Done, 200, 404))
def reorder_sentences(body: SentencesReorder, p: Principal = Depends(WRITE)) -> JSONResponse:
    """The ids must be exactly the section's sentences; a concurrent reorder gets 409."""
    with found("Section"):
        section = sections.get(p.user_id, body.section_id)
    sentences.reorder(section, body.sentence_ids)
    return ok(message="Sentences reordered successfully")


@router.get("/sentences/{sentence_id}", responses=answers(Answer[Sentence]))
def get_sentence(sentence_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Sentence"):
        return ok(sentences.view(sentences.get(p.user_id, sentence_id)))


@router.put("/sentences/{sentence_id}", responses=answers(Answer[Sentence]))
def update_sentence(sentence_id: str, body: SentenceUpdate, p: Principal = Depends(WRITE)) -> JSONResponse:
    """Changed fields mark what is stale: text -> audio, image, video; imagePrompt -> image,
    video; videoPrompt, cameraMovement, motionStrength -> video; speakerId -> audio, video."""
    changes = _changes(body)
    with found("Sentence"):
        item = sentences.locate(p.user_id, sentence_id)
        if "speakerId" in changes:
            service.check_speaker(projects.get(p.user_id, item["project_id"]), changes["speakerId"])
        return ok(sentences.view(sentences.update(p.user_id, sentence_id, changes)))


@router.delete("/sentences/{sentence_id}", status_code=204, responses=errors(409))
def delete_sentence(sentence_id: str, p: Principal = Depends(WRITE)) -> Response:
    with found("Sentence"):
        sentences.delete(p.user_id, sentence_id)
    return no_content()


@router.post("/sentences/{sentence_id}/move", responses=answers(Answer[Sentence]))
def move_sentence(sentence_id: str, body: SentenceMove, p: Principal = Depends(WRITE)) -> JSONResponse:
    """To `targetOrder` of `targetSectionId`; both sections are renumbered densely."""
    with found("Sentence"):
        sentences.locate(p.user_id, sentence_id)
    with found("Target section"):
        target = sections.get(p.user_id, body.target_section_id)
    with found("Sentence"):
        return ok(sentences.view(sentences.move(p.user_id, sentence_id, target, body.target_order)))


# --- media and export ------------------------------------------------------------------------------

def _queued(job: dict[str, Any], message: str) -> JSONResponse:
    return ok({"jobId": job["id"], "status": "queued", "jobType": job["jobType"]}, message=message, status=202)


def _sentence_media(kind: str) -> Any:
    """POST /sentences/{id}/generate-<kind> (a video also makes its audio and image where
    they are missing or stale)."""

    def route(sentence_id: str, p: Principal = Depends(AI), choice: ProviderChoice = Depends(provider)) -> JSONResponse:
        with found("Sentence"):
            job = service.start_sentence_media(p.user_id, sentence_id, kind, choice)
        return _queued(job, f"{kind.capitalize()} generation started")

    route.__name__ = f"generate_{kind}"
    return route


for _kind in sentences.MEDIA:
    router.add_api_route(f"/sentences/{{sentence_id}}/generate-{_kind}", _sentence_media(_kind), methods=["POST"],
                         status_code=202, dependencies=[SUBMITS_JOB], responses=answers(NotedAnswer[MediaQueued], 202))


@router.post("/projects/{project_id}/generate-media", dependencies=[SUBMITS_JOB], status_code=202,
             responses=answers(NotedAnswer[MediaQueued], 202))
def generate_media(project_id: str, p: Principal = Depends(AI), choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    """Audio, image and video of every sentence with a dirty flag."""
    with found("Project"):
        return _queued(service.start_project_media(p.user_id, project_id, choice, export=None),
                       "Media generation started")


@router.post("/projects/{project_id}/export", dependencies=[SUBMITS_JOB], status_code=202,
             responses=answers(NotedAnswer[MediaQueued], 202))
@router.post("/export/{project_id}", dependencies=[SUBMITS_JOB], include_in_schema=False, status_code=202)
def export(project_id: str, body: ExportBody | None = None, p: Principal = Depends(AI),
           choice: ProviderChoice = Depends(provider)) -> JSONResponse:
    """One video of the whole script with word-level captions; only dirty sentences are
    rendered again, the rest is reused."""
    with found("Project"):
        return _queued(service.start_project_media(p.user_id, project_id, choice, export=body or ExportBody()),
                       "Export started")


@router.get("/projects/{project_id}/export", responses=answers(Answer[Export]))
@router.get("/export/{project_id}", include_in_schema=False)
def get_export(project_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Project"):
        view = service.project_view(projects.get(p.user_id, project_id))
    if "export" not in view:
        raise HTTPException(404, "Export not found: POST /api/v1/projects/{id}/export first")
    return ok(view["export"])


# --- jobs ------------------------------------------------------------------------------------------

@router.get("/jobs", responses=answers(Answer[list[Job]]))
def list_jobs(p: Principal = Depends(READ)) -> JSONResponse:
    return ok([service.job_view(j) for j in jobs.list_for_owner(p.user_id, limit=100) if j["kind"] == service.KIND])


@router.get("/jobs/{job_id}", responses=answers(Answer[Job]))
def get_job(job_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Job"):
        job = jobs.get(job_id, p.user_id)
    if job["kind"] != service.KIND:
        raise HTTPException(404, "Job not found")
    return ok(service.job_view(job))


@router.get("/projects/{project_id}/jobs", responses=answers(Answer[list[Job]]))
def project_jobs(project_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Project"):
        return ok([service.job_view(j) for j in service.project_jobs(p.user_id, project_id)])


@router.get("/sentences/{sentence_id}/jobs", responses=answers(Answer[list[Job]]))
def sentence_jobs(sentence_id: str, p: Principal = Depends(READ)) -> JSONResponse:
    with found("Sentence"):
        item = sentences.locate(p.user_id, sentence_id)
    return ok([service.job_view(j) for j in service.project_jobs(p.user_id, item["project_id"])
               if j.get("sentenceId") == sentence_id])
