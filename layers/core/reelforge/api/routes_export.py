"""WIRING: POST /api/export, which two seeds name with different bodies: seed 000's
`{project_id}` exports an editor project's timeline, AutoVio's `{projectId, workId, ...}` a
work's. The body says which; both make an `export` job that GET /api/export/{id} follows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from reelforge.api.deps import SUBMITS_JOB, current_principal
from reelforge.api.openapi import answers
from reelforge.auth import Principal
from reelforge.editor import router as editor
from reelforge.editor.schemas import ExportBody, ExportStarted
from reelforge.works import router as works
from reelforge.works.schemas import WorksExport

router = APIRouter(prefix="/api", tags=["export"])


@router.post("/export", dependencies=[SUBMITS_JOB], responses={
    # 403: the scope depends on the body (projects:write for seed 000's, works:read for a work)
    **answers(ExportStarted, 200, 403, 404, description="Seed 000's body: the export job was started"),
    **answers(ExportStarted, 202, description="AutoVio's body: the export job was started")})
def export(body: WorksExport | ExportBody, response: Response,
           p: Principal = Depends(current_principal)) -> dict[str, Any]:
    """`{project_id}` (seed 000, needs projects:write; 200 as that seed answers) or
    `{projectId, workId, clips?, texts?, images?, audio?, options?}` (AutoVio, needs works:read;
    202): `{export_job_id, status}`, followed by GET /api/export/{export_job_id}."""
    if isinstance(body, WorksExport):
        response.status_code = 202
        return works.export_work(body, p)
    return editor.export(body, p)
