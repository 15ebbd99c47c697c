"""AutoVio's routes (seed 001): projects and works with ETags, work media, the AI endpoints
and the provider list. `P` = /api/projects/{project_id}, `W` = P/works/{work_id}.

The AI routes whose original answer is synchronous (`/api/analyze`, `/api/scenario`,
`/api/generate/image|video`, `W/scenario`) start a job and wait for it up to
`WORKS_SYNC_WAIT_S` seconds (under API Gateway's 29 s): a job that ends in time answers in the
original's shape; one that takes longer (a cloud video, a long reference) answers 202 with
`{jobId, status, statusUrl, progressUrl}`, as does any request with `Prefer: respond-async`.
Scene generation always answers 202.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from reelforge import jobs, quotas
from reelforge.api.deps import SUBMITS_JOB, found, require
from reelforge.api.openapi import answers, errors, served, upload
from reelforge.api.ranges import ByteSource, range_response
from reelforge.api.streaming_form import StreamedForm, read_form
from reelforge.api.urls import check_url
from reelforge.auth import Principal
from reelforge.blobs import Blobs, job_prefix
from reelforge.errors import BadRequest, IngestError, Missing, ProviderError
from reelforge.ingest import IngestPolicy, fetch_file
from reelforge.media import sniff
from reelforge.projects import service as projects
from reelforge.settings import get_settings
from reelforge.works import assets, service, styleguide, templates, timeline
from reelforge.works.providers import catalog
from reelforge.works.providers.choice import choose, choose_all
from reelforge.works.schemas import (
    DEFAULT_RESOLUTION,
    MAX_PROMPT,
    Analysis,
    AppliedWork,
    Asset,
    AssetBatch,
    AssetChanges,
    AssetDescription,
    AssetDescriptions,
    Assets,
    AssetUpload,
    AudioStored,
    AutoVioProject,
    AutoVioProjectWithAssets,
    ExportPreview,
    ExtractedStyleGuide,
    GeneratedImage,
    GeneratedVideo,
    ImageRequest,
    JobAccepted,
    LandingRequest,
    LandingStyle,
    MediaStored,
    PendingAsset,
    ProjectBody,
    ProjectPut,
    Provider,
    Scenario,
    ScenarioRequest,
    SceneJob,
    ScenesJob,
    StyleGuideText,
    Template,
    TemplateApplication,
    TemplateApply,
    TemplateBody,
    TemplateChanges,
    Templates,
    UploadTarget,
    VideoRequest,
    Work,
    WorkBody,
    WorkPut,
    WorkScenario,
    WorksExport,
    WorkSummary,
    WorkTemplateApply,
)

router = APIRouter(prefix="/api", tags=["works"])
P = "/projects/{project_id}"
W = P + "/works/{work_id}"
MODES = ("style_transfer", "content_remix")
# A failed job's error class -> the synchronous route's status (else 502: the provider failed).
FAILED_JOB_STATUS = {"InvalidMediaError": 422, "BadRequest": 400, "UnsupportedPromptError": 400,
                     "TransientError": 503, "Missing": 404}
# What a synchronous AI route answers when its job outlasts the wait, and the statuses of a
# job that failed in time (FAILED_JOB_STATUS) (OpenAPI).
ASYNC = answers(JobAccepted, 202, 400, 404, 502, 503, description="The job is still running: follow "
                "GET /api/job/{jobId} or the SSE /api/progress/{jobId}.")


def _tagged(body: Any, etag: str, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": etag})


# --- projects -----------------------------------------------------------------------------------

def _project_out(item: dict[str, Any]) -> dict[str, Any]:
    """AutoVio's Project, and what seed 000's routes show of the same record."""
    return {**projects.public_project(item), **projects.view_fields(item), **service.project_view(item)}


@router.get("/projects", responses=answers(list[AutoVioProject]))
def list_projects(p: Principal = Depends(require("projects:read"))) -> list[dict[str, Any]]:
    return [_project_out(item) for item in service.list_projects(p.user_id)]


# 400/429: a video_url must be fetchable, and it is ingested by a job
@router.post("/projects", status_code=201, responses=answers(AutoVioProject, 201, 400, 429))
def create_project(body: ProjectBody, p: Principal = Depends(require("projects:write"))) -> JSONResponse:
    if body.video_url:
        check_url(body.video_url)
        quotas.admit_job(p.user_id)
    item = service.create_project(p.user_id, body)
    out = _project_out(item)
    if body.video_url:
        job = projects.ingest_video_url(p.user_id, item)
        if job is not None:
            out["ingest_job_id"] = job["id"]
    return _tagged(out, service.project_etag(item), 201)


@router.get(P, responses=answers(AutoVioProjectWithAssets))
def get_project(project_id: str, p: Principal = Depends(require("projects:read"))) -> JSONResponse:
    with found("Project"):
        item = projects.get(p.user_id, project_id)
    return _tagged({**_project_out(item), "assets": [projects.public_asset(a) for a in projects.assets(project_id)]},
                   service.project_etag(item))


@router.put(P, responses=answers(AutoVioProject, 200, 400, 412))
def put_project(project_id: str, body: ProjectPut, p: Principal = Depends(require("projects:write")),
                if_match: str | None = Header(default=None)) -> JSONResponse:
    """The whole project (fields left out are cleared); `id` must be the path's. With
    `If-Match`, a project changed since that ETag is 412, not overwritten."""
    with found("Project"):
        item = service.put_project(p.user_id, project_id, body, if_match)
    return _tagged(_project_out(item), service.project_etag(item))


@router.delete(P, status_code=204, responses=errors(412))
def delete_project(project_id: str, p: Principal = Depends(require("projects:write")),
                   if_match: str | None = Header(default=None)) -> Response:
    with found("Project"):
        item = projects.get(p.user_id, project_id)
        service.check_if_match(if_match, service.project_etag(item))
        projects.delete(p.user_id, project_id)
    return Response(status_code=204)


# --- works --------------------------------------------------------------------------------------

def _work(principal: Principal, project_id: str, work_id: str) -> dict[str, Any]:
    with found("Project"):
        return service.get_work(principal.user_id, project_id, work_id)


@router.get(P + "/works", responses=answers(list[WorkSummary]))
def list_works(project_id: str, p: Principal = Depends(require("works:read"))) -> list[dict[str, Any]]:
    with found("Project"):
        items = service.list_works(p.user_id, project_id)
    return [{"id": w["id"], "projectId": w["project_id"], "name": w["name"],
             "createdAt": service.epoch_ms(w.get("created_at")), "updatedAt": service.epoch_ms(w.get("updated_at"))}
            for w in items]


@router.post(P + "/works", status_code=201, responses=answers(Work, 201))
def create_work(project_id: str, body: WorkBody, p: Principal = Depends(require("works:write"))) -> JSONResponse:
    with found("Project"):
        work = service.create_work(p.user_id, project_id, body)
    return _tagged(service.work_view(work, {}), service.work_etag(work), 201)


@router.get(W, responses=answers(Work))
def get_work(project_id: str, work_id: str, p: Principal = Depends(require("works:read"))) -> JSONResponse:
    """The WorkSnapshot; `generatedScenes` shows each scene's generation as it runs."""
    work = _work(p, project_id, work_id)
    return _tagged(service.work_view(work), service.work_etag(work))


@router.put(W, responses=answers(Work, 200, 400, 412))
def put_work(project_id: str, work_id: str, body: WorkPut, p: Principal = Depends(require("works:write")),
             if_match: str | None = Header(default=None)) -> JSONResponse:
    """The whole WorkSnapshot; `id` must be the path's. `generatedScenes` and
    `hasReferenceVideo` are the server's and ignored. Scenes keep their media by `id` (a scene
    sent without one is matched by its prompts). With `If-Match`, a stale write is 412."""
    with found("Project"):
        work = service.put_work(p.user_id, project_id, work_id, body, if_match)
    return _tagged(service.work_view(work), service.work_etag(work))


@router.delete(W, status_code=204, responses=errors(412))
def delete_work(project_id: str, work_id: str, p: Principal = Depends(require("works:write")),
                if_match: str | None = Header(default=None)) -> Response:
    with found("Project"):
        service.delete_work(p.user_id, project_id, work_id, if_match)
    return Response(status_code=204)


# --- work media ---------------------------------------------------------------------------------

async def _form(request: Request, tmp: str, field: str, limit: int) -> StreamedForm:
    form = await read_form(request, Path(tmp), file_field=field, max_file_bytes=limit)
    if form.file is None:
        raise HTTPException(400, f"No {field} file uploaded (multipart field `{field}`)")
    if form.file.size == 0:
        raise HTTPException(400, "The uploaded file is empty")
    return form


@router.post(W + "/media/reference", openapi_extra=upload("video"), responses=answers(MediaStored, 200, 400, 412))
async def upload_reference(request: Request, project_id: str, work_id: str,
                           p: Principal = Depends(require("works:write"))) -> dict[str, Any]:
    """multipart `video` (MP4, QuickTime, AVI or WebM by its bytes, at most 500 MB), written to
    disk as it arrives and then to S3, never held in memory."""
    work = await run_in_threadpool(_work, p, project_id, work_id)
    with tempfile.TemporaryDirectory(prefix="works-reference-") as tmp:
        form = await _form(request, tmp, "video", service.MAX_REFERENCE_BYTES)
        await run_in_threadpool(service.store_reference, work, form.file.path)
    return {"ok": True, "url": f"{service.media_route(work)}/reference"}


@router.post(W + "/media/reference/upload-url", responses=answers(UploadTarget))
def presign_reference(project_id: str, work_id: str, p: Principal = Depends(require("works:write"))) -> dict:
    """For a reference too large for a request body (API Gateway takes 10 MB): PUT the file
    to `upload_url`; it becomes the work's reference when it lands (checked by its bytes)."""
    work = _work(p, project_id, work_id)
    key = service.reference_upload_key(work)
    return {"upload_url": Blobs().presign_put(key, "application/octet-stream"), "method": "PUT",
            "headers": {"Content-Type": "application/octet-stream"},
            "maxBytes": service.MAX_REFERENCE_BYTES}


@router.post(W + "/media/scene/{scene_ref}/{kind}", openapi_extra=upload("file"),
             responses=answers(MediaStored, 200, 400, 412))
async def upload_scene_media(request: Request, project_id: str, work_id: str, scene_ref: str, kind: str,
                             p: Principal = Depends(require("works:write"))) -> dict[str, Any]:
    """multipart `file`: the scene's image (PNG, JPEG, WebP) or video. `scene_ref` is the
    scene's id or its 0-based index."""
    if kind not in ("image", "video"):
        raise HTTPException(404, "Not found")
    work = await run_in_threadpool(_work, p, project_id, work_id)
    limit = service.MAX_IMAGE_BYTES if kind == "image" else service.MAX_SCENE_VIDEO_BYTES
    with tempfile.TemporaryDirectory(prefix="works-scene-") as tmp:
        form = await _form(request, tmp, "file", limit)
        state = await run_in_threadpool(service.store_scene_media, work, scene_ref, kind, form.file.path)
    return {"ok": True, "url": f"{service.media_route(work)}/scene/{state['scene_id']}/{kind}"}


@router.post(W + "/media/audio", openapi_extra=upload("audio"), responses=answers(AudioStored, 200, 400, 412))
async def upload_audio(request: Request, project_id: str, work_id: str,
                       p: Principal = Depends(require("works:write"))) -> dict[str, Any]:
    work = await run_in_threadpool(_work, p, project_id, work_id)
    with tempfile.TemporaryDirectory(prefix="works-audio-") as tmp:
        form = await _form(request, tmp, "audio", service.MAX_AUDIO_BYTES)
        await run_in_threadpool(service.store_audio, work, form.file.path)
    return {"ok": True, "audioUrl": f"{service.media_route(work)}/audio"}


async def _serve(request: Request, project_id: str, work_id: str, what: str, ref: str | None,
                 principal: Principal) -> Response:
    """A work's file, with Range (or, in the cloud, a redirect to a presigned GET)."""
    work = await run_in_threadpool(_work, principal, project_id, work_id)
    key, mime = await run_in_threadpool(service.media_object, work, what, ref)
    return await _stream(request, key, mime, what.capitalize())


async def _stream(request: Request, key: str, mime: str, what: str) -> Response:
    """An object's bytes with Range (locally), or a redirect to a presigned GET (the cloud)."""
    store = Blobs()
    if get_settings().video_delivery == "redirect":  # the cloud: S3 serves the bytes and ranges
        return RedirectResponse(store.presign_get(key, content_type=mime), status_code=307)
    head = await run_in_threadpool(store.head, key)
    if head is None:
        raise HTTPException(404, f"{what} not found")
    source = ByteSource(size=int(head["ContentLength"]), etag=head["ETag"], last_modified=head.get("LastModified"),
                        read=lambda start, end: store.read_range(key, start, end))
    return range_response(request, source, media_type=mime, headers={"Content-Disposition": "inline"})


@router.get(W + "/media/reference", response_model=None, response_class=Response, responses=served("video/*"))
async def get_reference(request: Request, project_id: str, work_id: str,
                        p: Principal = Depends(require("works:read"))) -> Response:
    return await _serve(request, project_id, work_id, "reference", None, p)


@router.get(W + "/media/audio", response_model=None, response_class=Response, responses=served("audio/*"))
async def get_audio(request: Request, project_id: str, work_id: str,
                    p: Principal = Depends(require("works:read"))) -> Response:
    return await _serve(request, project_id, work_id, "audio", None, p)


@router.get(W + "/media/scene/{scene_ref}/{kind}", response_model=None, response_class=Response,
            responses={**served("image/*", "video/*"), **errors(400)})  # 400: a scene index out of range
async def get_scene_media(request: Request, project_id: str, work_id: str, scene_ref: str, kind: str,
                          p: Principal = Depends(require("works:read"))) -> Response:
    if kind not in ("image", "video"):
        raise HTTPException(404, "Not found")
    return await _serve(request, project_id, work_id, kind, scene_ref, p)


# --- project assets -----------------------------------------------------------------------------

@router.get(P + "/assets", responses=answers(Assets, 200, 400))
def list_assets(project_id: str, type: str | None = Query(default=None),  # noqa: A002  (the contract's name)
                p: Principal = Depends(require("projects:read"))) -> dict[str, Any]:
    with found("Project"):
        items = assets.listed(p.user_id, project_id, type or None)
    return {"assets": [assets.view(a) for a in items], "totalSize": sum(int(a.get("size_bytes") or 0) for a in items),
            "count": len(items)}


@router.post(P + "/assets", status_code=201, responses=answers(Asset, 201, 400), openapi_extra=upload(
    "file", name={"type": "string"}, description={"type": "string"},
    tags={"type": "string", "description": "a JSON array of strings, or comma-separated"}))
async def upload_asset(request: Request, project_id: str, p: Principal = Depends(require("projects:write"))) -> dict:
    """multipart `file` (an image, video, audio file or font by its bytes; at most 50 MB),
    `name?`, `description?`, `tags?` (a JSON array string or comma-separated)."""
    with found("Project"):
        await run_in_threadpool(projects.get, p.user_id, project_id)
    with tempfile.TemporaryDirectory(prefix="works-asset-") as tmp:
        form = await _form(request, tmp, "file", assets.MAX_ASSET_BYTES)
        fields = form.fields
        item = await run_in_threadpool(
            lambda: assets.create(p.user_id, project_id, form.file.path, form.file.filename,
                                  name=(fields.get("name") or "").strip()[:200] or None,
                                  description=(fields.get("description") or "").strip()[:2000] or None,
                                  tags=assets.parse_tags(fields.get("tags"))))
    return assets.view(item)


@router.post(P + "/assets/upload-url", status_code=201, responses=answers(PendingAsset, 201))
def presign_asset(project_id: str, body: AssetUpload, p: Principal = Depends(require("projects:write"))) -> dict:
    """For a file too large for a request body: PUT it to `upload_url`; when it lands it is
    checked and measured, and GET .../meta shows the asset `ready` (or `failed`, with why)."""
    tags = assets.clean_tags(body.tags) if body.tags else None
    with found("Project"):
        item, key = assets.presign_upload(p.user_id, project_id, body.file_name, name=body.name,
                                          description=body.description, tags=tags)
    return {**assets.view(item), "upload_url": Blobs().presign_put(key, "application/octet-stream"), "method": "PUT",
            "headers": {"Content-Type": "application/octet-stream"}, "maxBytes": assets.MAX_ASSET_BYTES}


@router.get(P + "/assets/{asset_id}/meta", responses=answers(Asset))
def asset_meta(project_id: str, asset_id: str, p: Principal = Depends(require("projects:read"))) -> dict:
    with found("Project"):
        return assets.view(assets.get(p.user_id, project_id, asset_id))


@router.put(P + "/assets/{asset_id}", responses=answers(Asset, 200, 400))
def update_asset(project_id: str, asset_id: str, body: AssetChanges,
                 p: Principal = Depends(require("projects:write"))) -> dict:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "tags" in changes:
        changes["tags"] = assets.clean_tags(changes["tags"])
    with found("Project"):
        return assets.view(assets.update(p.user_id, project_id, asset_id, changes))


async def _serve_asset(request: Request, project_id: str, asset_id: str, principal: Principal,
                       thumbnail: bool) -> Response:
    with found("Project"):
        item = await run_in_threadpool(assets.get, principal.user_id, project_id, asset_id)
    key = item.get("thumbnail_key") if thumbnail else item["s3_key"]
    if not key:
        raise HTTPException(404, "Thumbnail not found")
    mime = "image/jpeg" if thumbnail else item.get("content_type") or "application/octet-stream"
    return await _stream(request, key, mime, "Asset")


@router.get(P + "/assets/{asset_id}", response_model=None, response_class=Response, responses=served("*/*"))
async def get_asset(request: Request, project_id: str, asset_id: str,
                    p: Principal = Depends(require("projects:read"))) -> Response:
    """The file inline with its type (Range works), or a redirect to a presigned URL in the cloud."""
    return await _serve_asset(request, project_id, asset_id, p, thumbnail=False)


@router.get(P + "/assets/{asset_id}/thumbnail", response_model=None, response_class=Response,
            responses=served("image/jpeg"))
async def get_asset_thumbnail(request: Request, project_id: str, asset_id: str,
                              p: Principal = Depends(require("projects:read"))) -> Response:
    return await _serve_asset(request, project_id, asset_id, p, thumbnail=True)


@router.delete(P + "/assets/{asset_id}", status_code=204)
def delete_asset(project_id: str, asset_id: str, p: Principal = Depends(require("projects:write"))) -> Response:
    with found("Project"):
        assets.delete(p.user_id, project_id, asset_id)
    return Response(status_code=204)


def _describer(request: Request) -> Any:
    return catalog.make("vision", choose("vision", request.headers).call()).describe


@router.post(P + "/assets/{asset_id}/analyze", responses=answers(AssetDescription, 200, 502, 503))
def analyze_asset(request: Request, project_id: str, asset_id: str,
                  p: Principal = Depends(require("projects:write"))) -> dict[str, Any]:
    """A description of the asset (saved on it): a vision model's with x-vision-provider and a
    key, else the local one from what was measured on upload."""
    describe = _describer(request)
    with found("Project"):
        return assets.analyze(p.user_id, project_id, asset_id, describe)


@router.post(P + "/assets/analyze-batch", responses=answers(AssetDescriptions, 200, 503))
def analyze_assets(request: Request, project_id: str, body: AssetBatch,
                   p: Principal = Depends(require("projects:write"))) -> dict[str, Any]:
    describe = _describer(request)
    results = []
    with found("Project"):
        projects.get(p.user_id, project_id)
    for asset_id in dict.fromkeys(body.assetIds):
        try:
            results.append(assets.analyze(p.user_id, project_id, asset_id, describe))
        except (Missing, BadRequest, ProviderError) as exc:
            results.append({"assetId": asset_id, "error": str(exc)})
    return {"results": results}


# --- editor templates ---------------------------------------------------------------------------

@router.get(P + "/templates", responses=answers(Templates))
def list_templates(project_id: str, p: Principal = Depends(require("projects:read"))) -> dict[str, Any]:
    with found("Project"):
        items = templates.listed(p.user_id, project_id)
    return {"templates": [templates.meta(t) for t in items], "count": len(items)}


@router.post(P + "/templates", status_code=201, responses=answers(Template, 201))
def create_template(project_id: str, body: TemplateBody, p: Principal = Depends(require("projects:write"))) -> dict:
    with found("Project"):
        item = templates.create(p.user_id, project_id, body.model_dump(exclude_none=True))
    return templates.view(item)


@router.get(P + "/templates/{template_id}", responses=answers(Template))
def get_template(project_id: str, template_id: str, p: Principal = Depends(require("projects:read"))) -> dict:
    with found("Project"):
        return templates.view(templates.get(p.user_id, project_id, template_id))


@router.put(P + "/templates/{template_id}", responses=answers(Template))
def update_template(project_id: str, template_id: str, body: TemplateChanges,
                    p: Principal = Depends(require("projects:write"))) -> dict:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    with found("Project"):
        return templates.view(templates.update(p.user_id, project_id, template_id, changes))


@router.delete(P + "/templates/{template_id}", status_code=204)
def delete_template(project_id: str, template_id: str, p: Principal = Depends(require("projects:write"))) -> Response:
    with found("Project"):
        templates.delete(p.user_id, project_id, template_id)
    return Response(status_code=204)


@router.post(P + "/templates/{template_id}/apply", responses=answers(TemplateApplication))
def apply_template(project_id: str, template_id: str, body: TemplateApply,
                   p: Principal = Depends(require("projects:read"))) -> dict[str, Any]:
    """The template's overlays for a video of `videoDuration` s, placeholders filled; nothing
    is saved. `pendingPlaceholders` and `missingAssetIds` say what could not be filled."""
    with found("Project"):
        item = templates.get(p.user_id, project_id, template_id)
    return templates.apply(project_id, item.get("content") or {}, body.videoDuration, body.placeholderValues)


@router.post(W + "/apply-template", responses=answers(AppliedWork, 200, 400, 412))
def apply_template_to_work(project_id: str, work_id: str, body: WorkTemplateApply,
                           p: Principal = Depends(require("works:write")),
                           if_match: str | None = Header(default=None)) -> JSONResponse:
    """Merge the template's overlays into the work's editor state, timed on the work's own
    timeline (its editor timeline's end, else its scenes' total); the saved work comes back,
    with `templateApplication` saying what is pending."""
    with found("Project"):
        work = service.get_work(p.user_id, project_id, work_id)
        service.check_if_match(if_match, service.work_etag(work))
        item = templates.get(p.user_id, project_id, body.templateId)
    duration = templates.timeline_duration(work)
    if duration <= 0:
        raise HTTPException(400, "The work has no timeline yet: write its scenario or editor state first")
    applied = templates.apply(project_id, item.get("content") or {}, duration, body.placeholderValues)
    saved = service.write_work(work, {"editorState": templates.merged_editor_state(work, applied), "currentStep": 4})
    view = {**service.work_view(saved), "templateApplication": {
        k: applied[k] for k in ("pendingPlaceholders", "missingAssetIds", "videoDuration")}}
    return _tagged(view, service.work_etag(saved))


# --- the work's AI steps ------------------------------------------------------------------------

def _async_requested(request: Request) -> bool:
    return "respond-async" in request.headers.get("prefer", "").lower()


def _answer(request: Request, job: dict[str, Any], shape: Any) -> Any:
    """The original's synchronous answer if the job ends in time, else 202 with the job."""
    wait = 0 if _async_requested(request) else get_settings().works_sync_wait_s
    job = service.wait_for(job, wait)
    if job["status"] == jobs.FAILED:
        status = FAILED_JOB_STATUS.get(job.get("errorType") or "", 502)
        raise HTTPException(status, job.get("error") or "the job failed")
    if job["status"] != jobs.COMPLETED:
        return JSONResponse(service.job_links(job), status_code=202)
    return shape(job["result"] or {})


@router.post(W + "/analyze", dependencies=[SUBMITS_JOB], responses={**answers(Analysis, 200, 400), **ASYNC})
def analyze_work(request: Request, project_id: str, work_id: str, mode: str | None = Query(default=None),
                 p: Principal = Depends(require("ai:analyze"))) -> Any:
    """Analyze the work's uploaded reference video (the analysis is saved on the work)."""
    work = _work(p, project_id, work_id)
    if not work.get("referenceKey"):
        why = f" ({work['referenceUploadError']})" if work.get("referenceUploadError") else ""
        raise HTTPException(400, f"No reference video: POST it to W/media/reference first{why}")
    chosen = mode or work.get("mode") or "style_transfer"
    if chosen not in MODES:
        raise HTTPException(400, f"mode must be one of {', '.join(MODES)}")
    job = service.start_task(p.user_id, "analyze", {
        "reference_key": work["referenceKey"], "mode": chosen, "analyzer_prompt": work.get("analyzerPrompt")},
        {"vision": choose("vision", request.headers)}, project_id=project_id, work_id=work_id)
    return _answer(request, job, lambda r: r["analysis"])


@router.post(W + "/scenario", dependencies=[SUBMITS_JOB], responses={**answers(WorkScenario, 200, 409), **ASYNC})
def work_scenario(request: Request, project_id: str, work_id: str,
                  p: Principal = Depends(require("ai:generate"))) -> Any:
    """Write the work's scenario from its intent, analysis and the project's style guide;
    saved on the work (every scene with a new id)."""
    work = _work(p, project_id, work_id)
    if any(s.get("status") in service.RUNNING_SCENE for s in service.scene_states(work).values()):
        raise HTTPException(409, "scenes of this work are being generated; write the scenario when they finish")
    job = service.start_task(p.user_id, "scenario", {"request": None}, {"llm": choose("llm", request.headers)},
                             project_id=project_id, work_id=work_id)
    return _answer(request, job, lambda r: {"scenes": r["scenes"]})


def _scene_choices(request: Request) -> dict[str, Any]:
    return choose_all(request.headers, ("image", "video"), context="work")


@router.post(W + "/generate/scene/{scene_ref}", dependencies=[SUBMITS_JOB], status_code=202,
             responses=answers(SceneJob, 202))
def generate_scene(request: Request, project_id: str, work_id: str, scene_ref: str,
                   p: Principal = Depends(require("ai:generate"))) -> dict[str, Any]:
    """Image, then image-to-video, for one scene (its id or 0-based index), as a job: the
    scene goes pending -> generating_image -> image_ready -> generating_video -> done | error
    (GET W shows it). The answer names the URLs its media will have."""
    choices = _scene_choices(request)
    with found("Project"):
        job, work, claimed = service.start_scenes(p.user_id, project_id, work_id, [scene_ref], choices)
    scene = claimed[0]
    index = next(i for i, s in enumerate(work["scenes"]) if s["id"] == scene["id"])
    return {**service.job_links(job), "sceneIndex": index, "sceneId": scene["id"], **service.scene_urls(work, scene)}


@router.post(W + "/generate/scenes", dependencies=[SUBMITS_JOB], status_code=202, responses=answers(ScenesJob, 202))
def generate_scenes(request: Request, project_id: str, work_id: str,
                    p: Principal = Depends(require("ai:generate"))) -> dict[str, Any]:
    """Every scene not being generated already, as one job (a Map, `WORKS_CONCURRENCY` at once)."""
    choices = _scene_choices(request)
    with found("Project"):
        job, work, claimed = service.start_scenes(p.user_id, project_id, work_id, None, choices)
    order = {s["id"]: i for i, s in enumerate(work["scenes"])}
    return {**service.job_links(job), "scenes": [{"sceneIndex": order[s["id"]], "sceneId": s["id"],
                                                  **service.scene_urls(work, s)} for s in claimed]}


# --- the timeline export ------------------------------------------------------------------------

def _export_state(principal: Principal, body: WorksExport | ExportPreview) -> tuple[dict[str, Any], dict[str, Any]]:
    """(work, editorState): the request's own timeline (the original's body) or the work's."""
    with found("Project"):
        work = service.get_work(principal.user_id, body.projectId, body.workId)
    if isinstance(body, WorksExport) and body.clips is not None:
        return work, timeline.from_export_request(body.model_dump(exclude_none=True))
    if not work.get("editorState"):
        raise HTTPException(400, "projectId, workId and clips are required: the work has no saved editorState")
    return work, work["editorState"]


def export_work(body: WorksExport, principal: Principal) -> dict[str, Any]:
    """POST /api/export for a work (the route is wired in api/routes_export.py, beside seed
    000's): the timeline is checked now (unknown transitions, missing scene videos or assets are
    400) and rendered by an `export` job; GET /api/export/{export_job_id} follows it."""
    if "works:read" not in principal.scopes:
        raise HTTPException(403, "Insufficient permissions: requires works:read")
    work, state = _export_state(principal, body)
    with tempfile.TemporaryDirectory(prefix="works-export-check-") as tmp:
        timeline.composition(work, state, service.source_fetcher(work, Path(tmp)))
    job = service.start_export(principal.user_id, work, state)
    return {"export_job_id": job["id"], "jobId": job["id"], "status": "pending",
            "statusUrl": f"/api/export/{job['id']}",
            "message": "Export job created — check status with get_export_status"}


@router.post("/export/preview", response_model=None, response_class=Response,
             responses={**served("image/jpeg", ranges=False), **errors(400, 404)})
def export_preview(body: ExportPreview, p: Principal = Depends(require("works:read"))) -> Response:
    """One JPEG of the work's timeline at `t`, from the same filter graph as the export."""
    from reelforge.media.composition import preview_frame

    work, state = _export_state(p, body)
    with tempfile.TemporaryDirectory(prefix="works-preview-") as tmp:
        comp = timeline.composition(work, state, service.source_fetcher(work, Path(tmp)))
        frame = preview_frame(comp, body.t, Path(tmp) / "preview.jpg").read_bytes()
    return Response(frame, media_type="image/jpeg")


# --- the standalone AI endpoints ----------------------------------------------------------------

@router.post("/analyze", dependencies=[SUBMITS_JOB], responses={**answers(Analysis, 200, 400), **ASYNC},
             openapi_extra=upload("video", mode={"enum": list(MODES)},
                                  analyzerPrompt={"type": "string", "maxLength": MAX_PROMPT}))
async def analyze(request: Request, p: Principal = Depends(require("ai:analyze"))) -> Any:
    """multipart `video` (MP4, QuickTime, AVI or WebM by its bytes, at most 100 MB), `mode`
    (style_transfer | content_remix), `analyzerPrompt?` -> AnalysisResult."""
    choice = choose("vision", request.headers)
    job_id = service.new_job_id()
    with tempfile.TemporaryDirectory(prefix="works-analyze-") as tmp:
        form = await read_form(request, Path(tmp), file_field="video", max_file_bytes=service.MAX_ANALYZE_BYTES)
        if form.file is None:
            raise HTTPException(400, "No video file uploaded")
        kind = await run_in_threadpool(service.checked_video, form.file.path)
        mode = (form.fields.get("mode") or "").strip() or "style_transfer"
        if mode not in MODES:
            raise HTTPException(400, f"mode must be one of {', '.join(MODES)}")
        prompt = (form.fields.get("analyzerPrompt") or "").strip()[:MAX_PROMPT] or None
        key = f"{job_prefix(job_id)}reference.{kind[0]}"
        await run_in_threadpool(Blobs().put_file, key, form.file.path, kind[1])
    job = await run_in_threadpool(service.start_task, p.user_id, "analyze",
                                  {"reference_key": key, "mode": mode, "analyzer_prompt": prompt},
                                  {"vision": choice}, job_id=job_id)
    return await run_in_threadpool(_answer, request, job, lambda r: r["analysis"])


@router.post("/scenario", dependencies=[SUBMITS_JOB], responses={**answers(Scenario), **ASYNC})
def scenario(request: Request, body: ScenarioRequest, p: Principal = Depends(require("ai:generate"))) -> Any:
    """{analysis?, intent, systemPrompt?, knowledge?, styleGuide?} -> {scenes} (0-based scene_index)."""
    job = service.start_task(p.user_id, "scenario", {"request": body.model_dump(exclude_none=True)},
                             {"llm": choose("llm", request.headers)})
    return _answer(request, job, lambda r: {"scenes": r["scenes"]})


def _presigned(result: dict[str, Any]) -> str:
    return Blobs().presign_get(result["key"], content_type=result.get("mime_type"))


@router.post("/generate/image", dependencies=[SUBMITS_JOB], responses={**answers(GeneratedImage), **ASYNC})
def generate_image(request: Request, body: ImageRequest, p: Principal = Depends(require("ai:generate"))) -> Any:
    """-> {imageUrl}: a presigned URL of the stored picture (the original's data URL could pass
    API Gateway's 6 MB response limit)."""
    job = service.start_task(p.user_id, "image", {"image": {
        "prompt": body.prompt, "negative_prompt": body.negative_prompt, "instruction": body.image_instruction,
        "style_guide": body.styleGuide.model_dump(exclude_none=True) if body.styleGuide else None,
        "size": (body.resolution or DEFAULT_RESOLUTION).model_dump()}},
        {"image": choose("image", request.headers)}, job_id=service.new_job_id())
    return _answer(request, job, lambda r: {"imageUrl": _presigned(r), **({"note": r["note"]} if r.get("note") else {})})


def _image_bytes(principal: Principal, url: str) -> bytes:
    """The first frame named by `image_url`: a data URL, this API's own scene-image URL
    (the caller's work), or an https URL fetched through the SSRF-safe ingest."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        if ";base64" not in header:
            raise BadRequest("image_url: a data URL must be base64")
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            raise BadRequest("image_url: the data URL is not valid base64") from None
    else:
        path = urlsplit(url).path if url.startswith(("http://", "https://")) else url
        parts = path.strip("/").split("/")
        own = len(parts) == 9 and parts[:2] == ["api", "projects"] and parts[3] == "works" and parts[5:7] == [
            "media", "scene"] and parts[8] == "image"
        bucket_key = _bucket_key(url)
        if own and (not url.startswith(("http://", "https://")) or path.startswith("/api/projects/")):
            if "works:read" not in principal.scopes:
                raise HTTPException(403, "Insufficient permissions: reading a work's image requires works:read")
            with found("Project"):
                work = service.get_work(principal.user_id, parts[2], parts[4])
            key, _mime = service.media_object(work, "image", parts[7])
            raw = Blobs().get_bytes(key)
        elif bucket_key is not None:  # a presigned URL this API handed out (the bucket may be private to us)
            if not service.owns_object(principal.user_id, bucket_key):
                raise BadRequest("image_url names a stored object that is not yours")
            raw = Blobs().get_bytes(bucket_key)
        else:
            s = get_settings()
            policy = IngestPolicy(max_bytes=service.MAX_IMAGE_BYTES, allow_hosts=frozenset(s.ingest_allow_host_list))
            with tempfile.TemporaryDirectory(prefix="works-image-") as tmp:
                try:
                    raw = fetch_file(url, Path(tmp), policy).path.read_bytes()
                except IngestError as exc:
                    raise BadRequest(f"image_url could not be fetched: {exc}") from None
    if sniff.image_type(raw[:16]) is None:
        raise BadRequest("image_url is not a PNG, JPEG or WebP image")
    return raw


def _bucket_key(url: str) -> str | None:
    """The key of an object in our bucket that `url` (a presigned GET) names, else None."""
    ours = urlsplit(Blobs().presign_get("probe"))
    theirs = urlsplit(url)
    if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
        return None
    bucket_path = ours.path.rsplit("/probe", 1)[0]  # "" (virtual-hosted) or "/<bucket>" (path style)
    if not theirs.path.startswith(bucket_path + "/"):
        return None
    return unquote(theirs.path[len(bucket_path) + 1:]) or None


@router.post("/generate/video", dependencies=[SUBMITS_JOB], responses={**answers(GeneratedVideo, 200, 400), **ASYNC})
def generate_video(request: Request, body: VideoRequest, p: Principal = Depends(require("ai:generate"))) -> Any:
    """{image_url, prompt, duration} -> {videoUrl} (a presigned URL), or 202 with the job while
    a provider's operation runs."""
    choice = choose("video", request.headers)
    image = _image_bytes(p, body.image_url)
    job_id = service.new_job_id()
    key = f"{job_prefix(job_id)}first-frame.{sniff.image_type(image[:16])[0]}"  # type: ignore[index]
    Blobs().put_bytes(key, image, sniff.image_type(image[:16])[1])  # type: ignore[index]
    job = service.start_task(p.user_id, "video", {"scenes": [{"scene_id": None}], "total": 1, "video": {
        "image_key": key, "prompt": body.prompt, "duration": body.duration, "instruction": body.video_instruction,
        "style_guide": body.styleGuide.model_dump(exclude_none=True) if body.styleGuide else None,
        "size": (body.resolution or DEFAULT_RESOLUTION).model_dump(), "camera_movement": body.camera_movement}},
        {"video": choice}, job_id=job_id)
    return _answer(request, job, lambda r: {"videoUrl": _presigned(r)})


@router.post("/style-guide/extract", responses=answers(ExtractedStyleGuide, 200, 400, 502, 503))
def extract_style_guide(request: Request, body: StyleGuideText,
                        p: Principal = Depends(require("ai:generate"))) -> dict[str, Any]:
    if not body.text.strip():
        raise HTTPException(400, "text is required")
    guide = styleguide.from_text(body.text, choose("llm", request.headers))
    return {"styleGuide": guide}


@router.post("/style-guide/extract-from-landing", responses=answers(LandingStyle, 200, 400, 502, 503))
def extract_from_landing(request: Request, body: LandingRequest,
                         p: Principal = Depends(require("ai:generate"))) -> dict[str, Any]:
    """The page is fetched through the SSRF-safe ingest (public addresses only, every redirect
    checked, 2 MB at most) and read with an HTML parser."""
    choice = choose("llm", request.headers)
    return styleguide.from_landing(body.url, choice, include_product_info=body.includeProductInfo, mode=body.mode)


@router.get("/providers", responses=answers(list[Provider]))
def providers() -> list[dict[str, Any]]:
    """Every provider by category (vision, llm, image, video) with its models, and whether
    it is usable here without a key in the request. No authentication."""
    return catalog.listing()
