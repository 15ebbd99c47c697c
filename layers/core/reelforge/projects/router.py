"""Projects and uploads (seed 000's /api/project; AutoVio's /api/projects, the same records in
AutoVio's shape, are in works/router.py).

One resource behind every seed that names a project: surfaces add their own fields to the
view through `service.adds_view_fields`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from reelforge import quotas
from reelforge.api.deps import require
from reelforge.api.openapi import answers
from reelforge.api.urls import check_url
from reelforge.auth import Principal
from reelforge.blobs import Blobs
from reelforge.projects import service
from reelforge.projects.schemas import (
    AssetUploadUrl,
    ProjectBody,
    ProjectRecord,
    TimelineProject,
    UploadBody,
)

router = APIRouter(prefix="/api", tags=["projects"])


def _list(principal: Principal) -> list[dict[str, Any]]:
    return [service.public_project(p) for p in service.list_for_owner(principal.user_id)]


def _create(body: ProjectBody, principal: Principal) -> dict[str, Any]:
    url = str(body.video_url) if body.video_url else None
    if url:
        check_url(url)
        quotas.admit_job(principal.user_id)  # its video is ingested by a job
    item = service.create(principal.user_id, body.name, body.description, url)
    out = {**service.public_project(item, []), **service.view_fields(item)}
    if url:
        job = service.ingest_video_url(principal.user_id, item)
        if job is not None:
            out["ingest_job_id"] = job["id"]
    return out


def _get(project_id: str, principal: Principal) -> dict[str, Any]:
    item = service.get(principal.user_id, project_id)
    return {**service.public_project(item, service.assets(project_id)), **service.view_fields(item)}


@router.get("/project", responses=answers(list[ProjectRecord]))
def list_projects(p: Principal = Depends(require("projects:read"))) -> list[dict[str, Any]]:
    return _list(p)


# 429: a video_url is ingested by a job
@router.post("/project", status_code=201, responses=answers(TimelineProject, 201, 400, 429))
def create_project(body: ProjectBody, p: Principal = Depends(require("projects:write"))) -> dict:
    return _create(body, p)


@router.get("/project/{project_id}", responses=answers(TimelineProject))
def get_project(project_id: str, p: Principal = Depends(require("projects:read"))) -> dict:
    return _get(project_id, p)


@router.delete("/project/{project_id}", status_code=204)
def delete_project(project_id: str, p: Principal = Depends(require("projects:write"))) -> Response:
    service.delete(p.user_id, project_id)
    return Response(status_code=204)


@router.post("/project/{project_id}/upload", responses=answers(AssetUploadUrl))
def presign_upload(
    project_id: str, body: UploadBody, p: Principal = Depends(require("projects:write"))
) -> dict[str, Any]:
    """A presigned S3 PUT for one media file. PUT it with the same Content-Type; the
    asset turns `ready` (with probed media info) or `failed` (with a reason) once stored."""
    asset = service.create_asset(p.user_id, project_id, body.file_name, body.content_type)
    url = Blobs().presign_put(asset["s3_key"], body.content_type)
    return {
        "upload_url": url,
        "asset_id": asset["id"],
        "method": "PUT",
        "headers": {"Content-Type": body.content_type},
        "status": asset["status"],
    }
