"""The editor surface (seed 000): segments, grading, previews, AI region edits, export."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from pydantic import ValidationError

from reelforge import jobs
from reelforge.api.deps import SUBMITS_JOB, key_header, provider_key, require
from reelforge.api.openapi import answers
from reelforge.auth import Principal
from reelforge.editor import service, timeline
from reelforge.editor.schemas import (
    AcceptedVariant,
    Deleted,
    ExportBody,
    ExportStatus,
    Frame,
    FrameBody,
    FrameStrip,
    GenerateBody,
    GradeJob,
    GradePreview,
    RegionEditJob,
    ScoredVariant,
    Segment,
    SplitBody,
    SplitSegments,
    StripBody,
    TrimBody,
)
from reelforge.media.grade import GradeParams
from reelforge.settings import get_settings

router = APIRouter(prefix="/api", tags=["editor"])


# --- segments ------------------------------------------------------------------------------


@router.post("/segment/{segment_id}/split", responses=answers(SplitSegments))
def split(segment_id: str, body: SplitBody, p: Principal = Depends(require("projects:write"))) -> dict:
    left, right = timeline.split(p.user_id, segment_id, body.split_ts)
    return {"left": left, "right": right}


@router.post("/segment/{segment_id}/trim", responses=answers(Segment))
def trim(segment_id: str, body: TrimBody, p: Principal = Depends(require("projects:write"))) -> dict:
    return timeline.trim(p.user_id, segment_id, body.new_start_ts, body.new_end_ts)


@router.delete("/segment/{segment_id}", responses=answers(Deleted, 200, 400, 409))
def delete_segment(segment_id: str, p: Principal = Depends(require("projects:write"))) -> dict:
    timeline.delete(p.user_id, segment_id)
    return {"deleted": True}


@router.post("/segment/{segment_id}/color-grade", dependencies=[SUBMITS_JOB], responses=answers(GradeJob))
def color_grade(segment_id: str, body: GradeParams, p: Principal = Depends(require("projects:write"))) -> dict:
    """The graded segment takes the original's place at once with `status: rendering`;
    its `url` (and this job's `graded_url` via GET /api/job/{job_id}) is set when ready."""
    return service.submit_grade(p.user_id, segment_id, body)


@router.post("/segment/{segment_id}/grade-preview", responses=answers(GradePreview))
def grade_preview(segment_id: str, body: GradeParams, p: Principal = Depends(require("projects:read"))) -> dict:
    return service.grade_preview(p.user_id, segment_id, body)


# --- previews --------------------------------------------------------------------------------


@router.post("/project/{project_id}/preview/frame", responses=answers(Frame))
def preview_frame(project_id: str, body: FrameBody, p: Principal = Depends(require("projects:read"))) -> dict:
    return service.preview_frame(p.user_id, project_id, body.ts)


@router.post("/project/{project_id}/preview/strip", responses=answers(FrameStrip))
def preview_strip(project_id: str, body: StripBody, p: Principal = Depends(require("projects:read"))) -> dict:
    return service.preview_strip(p.user_id, project_id, body.start, body.end, body.fps)


# --- AI region edits and variants -----------------------------------------------------------


def _provider(x_api_key: str | None, x_video_provider: str | None) -> tuple[str, str | None]:
    x_api_key = provider_key(x_api_key, "x-api-key")
    name = (x_video_provider or ("gemini" if x_api_key else get_settings().ai_provider)).lower()
    if name not in ("local", "gemini"):
        raise HTTPException(400, f"Unknown video provider '{name}': use local or gemini")
    return name, (x_api_key or None)


@router.post("/ai/generate", dependencies=[SUBMITS_JOB], responses=answers(RegionEditJob, 200, 400, 404))
def ai_generate(
    body: GenerateBody,
    p: Principal = Depends(require("ai:generate")),
    x_api_key: str | None = key_header(),
    x_video_provider: str | None = Header(default=None, json_schema_extra={"enum": ["local", "gemini"]}),
) -> dict[str, Any]:
    """Start an AI region edit: `variants` renders of [start_ts, end_ts] (timeline seconds)
    with the prompt applied inside `bounding_box` (pixels of the project's frame)."""
    from reelforge.editor.region.render import BoundingBox

    provider, key = _provider(x_api_key, x_video_provider)
    try:
        box = BoundingBox(**body.bounding_box.model_dump())
    except ValidationError as exc:
        raise HTTPException(400, f"bounding_box: {exc.errors()[0]['msg']}") from exc
    job = service.submit_region_edit(p.user_id, body, box, provider, key)
    return {"job_id": job["id"], "id": job["id"], "project_id": body.project_id, "status": "pending"}


@router.post("/variant/{variant_id}/accept", responses=answers(AcceptedVariant))
def accept_variant(variant_id: str, p: Principal = Depends(require("projects:write"))) -> dict:
    return service.accept_variant(p.user_id, variant_id)


@router.get("/variant/{variant_id}/score", responses=answers(ScoredVariant))
def score_variant(
    variant_id: str,
    compare_to: Literal["prompt", "original"] = Query(default="prompt"),
    p: Principal = Depends(require("ai:analyze")),
    x_api_key: str | None = key_header(),
) -> dict:
    return service.score_variant(p.user_id, variant_id, compare_to,
                                 provider_key(x_api_key, "x-api-key"))


# --- export --------------------------------------------------------------------------------------


def export(body: ExportBody, p: Principal) -> dict[str, Any]:
    """POST /api/export for a project's timeline (wired in api/routes_export.py, beside AutoVio's)."""
    if "projects:write" not in p.scopes:
        raise HTTPException(403, "Insufficient permissions: requires projects:write")
    job = service.submit_export(p.user_id, body.project_id)
    return {"export_job_id": job["id"], "status": "pending",
            "message": "Export job created — check status with get_export_status"}


@router.get("/export/{export_job_id}", responses=answers(ExportStatus))
def export_status(export_job_id: str, p: Principal = Depends(require("projects:read"))) -> dict[str, Any]:
    job = jobs.get(export_job_id, p.user_id)
    if job["kind"] != "export":
        raise HTTPException(404, "Not found")
    return service.export_view(job)
