"""The narrated-video surface (seed 003): generate, its documents, single-slide edits, the
video with Range support, voices. Status and progress are the shared job routes
(/api/status, /api/progress), which resolve a generation id or topic slug to its newest run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from reelforge.ai.choice import choose_provider
from reelforge.api.deps import SUBMITS_JOB, current_principal, key_header, provider_key, require
from reelforge.api.openapi import answers, served
from reelforge.api.ranges import ByteSource, range_response
from reelforge.auth import Principal
from reelforge.blobs import Blobs
from reelforge.narrate import service
from reelforge.narrate.schemas import (
    ContentEdit,
    GenerateBody,
    NarrationScript,
    NarrationVoices,
    PresentationContent,
    RenderQueued,
    ScriptEdit,
    SlideEdit,
)
from reelforge.settings import get_settings
from reelforge.store import NotFound

router = APIRouter(prefix="/api", tags=["narrated video"])
# Seed 003's video responses expose these to the browser (its CORS expose list).
_VIDEO_HEADERS = {"Access-Control-Expose-Headers":
                  "content-type, accept-ranges, content-length, content-range, content-encoding, etag"}
_NO_TOKEN = {401: {"description": "Neither a valid token nor a signed link (expires and sig)"}}
# A bearer token, or none with a signed link (a <video> element sends no header).
_VIDEO_SECURITY = {"security": [{"bearerAuth": []}, {}]}


def _queued(job: dict[str, Any], gen: dict[str, Any], message: str) -> JSONResponse:
    gid = gen["id"]
    return JSONResponse(status_code=202, content={
        "status": "queued", "generation_id": gid, "job_id": job["id"], "message": message,
        "status_url": f"/api/status/{gid}", "progress_url": f"/api/progress/{gid}",
        "video_filename": service.video_filename(gid),
        # Plays without an Authorization header once the video is ready (404 until then).
        "video_url": service.signed_video_url(gen)})


@router.post("/generate", dependencies=[SUBMITS_JOB], status_code=202, responses=answers(RenderQueued, 202))
def generate(body: GenerateBody, p: Principal = Depends(require("ai:generate")),
             x_gemini_key: str | None = key_header()) -> JSONResponse:
    """Start a narrated video: answers at once; follow /api/progress/{generation_id}."""
    provider = choose_provider(provider_key(x_gemini_key, "X-Gemini-Key"))
    gen = service.create_generation(p.user_id, body, provider)
    job = {"id": gen["job_id"]}
    return _queued(job, gen, "Generation started: follow progress_url for live progress")


@router.post("/generate/{generation_id}/render", dependencies=[SUBMITS_JOB], status_code=202,
             responses=answers(RenderQueued, 202, 409))
def render(generation_id: str, p: Principal = Depends(require("ai:generate")),
           x_gemini_key: str | None = key_header()) -> JSONResponse:
    """Render (or re-render) from the stored content and script; unchanged slides are reused."""
    provider = choose_provider(provider_key(x_gemini_key, "X-Gemini-Key"))
    gen = _generation(generation_id, p)
    job = service.start_render(gen["id"], p.user_id, provider)
    return _queued(job, gen, "Render started")


@router.post("/generate/{generation_id}/slides/{number}", dependencies=[SUBMITS_JOB], status_code=202,
             responses=answers(RenderQueued, 202, 409))
def edit_slide(body: SlideEdit, generation_id: str, number: int = Path(ge=1, le=20),
               p: Principal = Depends(require("ai:generate")),
               x_gemini_key: str | None = key_header()) -> JSONResponse:
    """Change one slide; only it is narrated and drawn again, the rest is reused."""
    provider = choose_provider(provider_key(x_gemini_key, "X-Gemini-Key"))
    gen = _generation(generation_id, p)
    job = service.edit_slide(gen["id"], p.user_id, number, body, provider)
    return _queued(job, gen, f"Slide {number} changed: re-rendering it")


@router.get("/content/{generation_id}", responses=answers(PresentationContent))
def get_content(generation_id: str, p: Principal = Depends(require("jobs:read"))) -> dict[str, Any]:
    return _document(generation_id, p, "content", "Content not found")


@router.get("/script/{generation_id}", responses=answers(NarrationScript))
def get_script(generation_id: str, p: Principal = Depends(require("jobs:read"))) -> dict[str, Any]:
    return _document(generation_id, p, "script", "Script not found")


def _document(ident: str, p: Principal, which: str, missing: str) -> dict[str, Any]:
    try:
        return service.document(ident, p.user_id, which)
    except NotFound as exc:
        raise HTTPException(404, missing) from exc


def _generation(ident: str, p: Principal) -> dict[str, Any]:
    try:
        return service.find_generation(ident, p.user_id)
    except NotFound as exc:
        raise HTTPException(404, "Generation ID not found") from exc


@router.put("/content/{generation_id}", responses=answers(PresentationContent, 200, 400, 409))
def put_content(body: ContentEdit, generation_id: str,
                p: Principal = Depends(require("ai:generate"))) -> dict[str, Any]:
    """Replace the slides of a stopped or finished generation (then POST .../render)."""
    return service.edit_content(generation_id, p.user_id, body.slides)


@router.put("/script/{generation_id}", responses=answers(NarrationScript, 200, 400, 409))
def put_script(body: ScriptEdit, generation_id: str,
               p: Principal = Depends(require("ai:generate"))) -> dict[str, Any]:
    """Replace the narration of a stopped or finished generation (then POST .../render)."""
    return service.edit_script(generation_id, p.user_id, body.slide_scripts)


@router.get("/voices", responses=answers(NarrationVoices))
def voices(p: Principal = Depends(require("jobs:read"))) -> dict[str, Any]:
    return service.voices()


@router.get("/video/{filename}", response_model=None, response_class=Response, responses={**served("video/mp4"), **_NO_TOKEN},
            openapi_extra=_VIDEO_SECURITY)
async def video(request: Request, filename: str, expires: str | None = Query(default=None),
                sig: str | None = Query(default=None)) -> Response:
    """The video, with Range requests (RFC 9110). Authorised by a bearer token, or by the
    signed link that generate/status hand out (a <video> element sends no header)."""
    owner = None
    if request.headers.get("authorization"):
        owner = current_principal(request).user_id
    elif not sig:
        owner = current_principal(request).user_id  # 401 with WWW-Authenticate
    try:
        gen, key = await run_in_threadpool(service.video_for, filename, owner, expires=expires, sig=sig)
    except NotFound as exc:
        raise HTTPException(404, f"Video not found: {filename}") from exc
    store = Blobs()
    if get_settings().video_delivery == "redirect":
        # The cloud: S3 serves the bytes and their ranges; a Lambda response could not.
        url = store.presign_get(key, content_type="video/mp4")
        return RedirectResponse(url, status_code=307, headers=_VIDEO_HEADERS)
    head = await run_in_threadpool(store.head, key)
    if head is None:
        raise HTTPException(404, f"Video not found: {filename}")
    source = ByteSource(size=int(head["ContentLength"]), etag=head["ETag"],
                        last_modified=head.get("LastModified"),
                        read=lambda start, end: store.read_range(key, start, end))
    return range_response(request, source, media_type="video/mp4", headers=_VIDEO_HEADERS)


# HEAD is the same handler (range_response leaves the body out), under its own operation id.
router.add_api_route("/video/{filename}", video, methods=["HEAD"], response_model=None, response_class=Response,
                     responses={**served("video/mp4", head=True), **_NO_TOKEN}, openapi_extra=_VIDEO_SECURITY, operation_id="video_head")
