"""Projects and uploads (seed 000's /api/project and AutoVio's /api/projects: one resource)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field, HttpUrl, StringConstraints, field_validator

from reelforge import editing, projects, segments
from reelforge.api.deps import NO_CONTROL_CHARACTERS, require
from reelforge.api.urls import check_url
from reelforge.auth import Principal
from reelforge.blobs import Blobs

router = APIRouter(prefix="/api", tags=["projects"])
_MEDIA_TYPE = re.compile(r"^(video|audio)/[A-Za-z0-9][A-Za-z0-9.+-]{0,100}$")


class ProjectBody(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                           pattern=NO_CONTROL_CHARACTERS)] = "Untitled project"
    description: str = Field(default="", max_length=5000)
    video_url: HttpUrl | None = None


class UploadBody(BaseModel):
    file_name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=120)

    @field_validator("content_type")
    @classmethod
    def _media_only(cls, v: str) -> str:
        v = v.strip().lower()
        if not _MEDIA_TYPE.match(v):
            raise ValueError("only video/* and audio/* content types can be uploaded")
        return v


def _list(principal: Principal) -> list[dict[str, Any]]:
    return [projects.public_project(p) for p in projects.list_for_owner(principal.user_id)]


def _create(body: ProjectBody, principal: Principal) -> dict[str, Any]:
    url = str(body.video_url) if body.video_url else None
    if url:
        check_url(url)
    item = projects.create(principal.user_id, body.name, body.description, url)
    out = projects.public_project(item, [])
    if url:
        # Fetched by the edit state machine with the same SSRF-safe ingest as clips.
        out["ingest_job_id"] = editing.submit_project_ingest(principal.user_id, item)["id"]
    return {**out, "segments": []}


def _get(project_id: str, principal: Principal) -> dict[str, Any]:
    item = projects.get(principal.user_id, project_id)
    out = projects.public_project(item, projects.assets(project_id))
    out["segments"] = segments.timeline_view(item)
    out["duration"] = round(sum(s["end_ts"] - s["start_ts"] for s in out["segments"]), 6)
    return out


@router.get("/project")
def list_projects(p: Principal = Depends(require("projects:read"))) -> list[dict[str, Any]]:
    return _list(p)


@router.get("/projects", include_in_schema=False)
def list_projects_plural(p: Principal = Depends(require("projects:read"))) -> list[dict]:
    return _list(p)


@router.post("/project", status_code=201)
def create_project(body: ProjectBody, p: Principal = Depends(require("projects:write"))) -> dict:
    return _create(body, p)


@router.post("/projects", status_code=201, include_in_schema=False)
def create_project_plural(body: ProjectBody, p: Principal = Depends(require("projects:write"))) -> dict:
    return _create(body, p)


@router.get("/project/{project_id}")
def get_project(project_id: str, p: Principal = Depends(require("projects:read"))) -> dict:
    return _get(project_id, p)


@router.get("/projects/{project_id}", include_in_schema=False)
def get_project_plural(project_id: str, p: Principal = Depends(require("projects:read"))) -> dict:
    return _get(project_id, p)


@router.delete("/project/{project_id}", status_code=204)
@router.delete("/projects/{project_id}", status_code=204, include_in_schema=False)
def delete_project(project_id: str, p: Principal = Depends(require("projects:write"))) -> Response:
    projects.delete(p.user_id, project_id)
    return Response(status_code=204)


@router.post("/project/{project_id}/upload")
def presign_upload(
    project_id: str, body: UploadBody, p: Principal = Depends(require("projects:write"))
) -> dict[str, Any]:
    """A presigned S3 PUT for one media file. PUT it with the same Content-Type; the
    asset turns `ready` (with probed media info) or `failed` (with a reason) once stored."""
    asset = projects.create_asset(p.user_id, project_id, body.file_name, body.content_type)
    url = Blobs().presign_put(asset["s3_key"], body.content_type)
    return {
        "upload_url": url,
        "asset_id": asset["id"],
        "method": "PUT",
        "headers": {"Content-Type": body.content_type},
        "status": asset["status"],
    }
