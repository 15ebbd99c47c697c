"""The clips surface (seed 002): POST /api/process and presigned process uploads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from reelforge import blobs
from reelforge.ai.choice import ProviderChoice, choose_provider
from reelforge.api.deps import SUBMITS_JOB, key_header, provider_key, require
from reelforge.api.openapi import answers, form
from reelforge.api.streaming_form import read_form
from reelforge.api.urls import check_url
from reelforge.auth import Principal
from reelforge.blobs import Blobs
from reelforge.clips import service
from reelforge.clips.schemas import (
    ProcessJob,
    ProcessOptions,
    ProcessUpload,
    ProcessUploadBody,
    ProcessUrlBody,
    Source,
)
from reelforge.settings import get_settings

router = APIRouter(prefix="/api", tags=["clips"])
_OPTION_FIELDS = set(ProcessOptions.model_fields)


def _provider(x_gemini_key: str | None) -> ProviderChoice:
    return choose_provider(provider_key(x_gemini_key, "X-Gemini-Key"))


@router.post("/process", dependencies=[SUBMITS_JOB], responses=answers(ProcessJob, 200, 400),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": ProcessUrlBody.model_json_schema() | {"required": ["url"]}},
                 "multipart/form-data": {"schema": form("file", url={"type": "string"})}}}})
async def submit(
    request: Request,
    p: Principal = Depends(require("ai:generate")),
    x_gemini_key: str | None = key_header(),
) -> dict[str, Any]:
    """Start a clips job from JSON `{"url": ...}` or a multipart `file` (not both).

    Returns at once with `{"job_id", "status": "queued"}`; poll /api/status/{job_id} or
    stream /api/progress/{job_id}. Large files: use POST /api/process/upload-url instead.
    """
    provider = _provider(x_gemini_key)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        return await _submit_multipart(request, p, provider)
    try:
        body = ProcessUrlBody.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    if not body.url:
        raise HTTPException(400, "Neither url nor file provided")
    options = ProcessOptions(**body.model_dump(include=_OPTION_FIELDS))
    return await run_in_threadpool(_submit_url, p.user_id, body.url, options, provider)


def _submit_url(owner: str, url: str, options: ProcessOptions,
                provider: ProviderChoice) -> dict[str, Any]:
    """Blocking (a DNS lookup for the SSRF check, DynamoDB, Step Functions): run it off the
    event loop, or one slow request stalls every other one on this server."""
    check_url(url)
    job = service.create_job(owner, options, provider, Source(kind="url", url=url))
    return {"job_id": job["id"], "status": "queued"}


def _submit_file(owner: str, options: ProcessOptions, provider: ProviderChoice,
                 name: str, path: Path, content_type: str | None) -> dict[str, Any]:
    """Blocking like _submit_url, and the S3 upload of a file of up to MAX_FILE_SIZE_MB."""
    job = service.create_job(owner, options, provider, None, file_name=name)
    # The S3 trigger on process-uploads/ starts the workflow, as for presigned uploads.
    Blobs().put_file(service.upload_key(job, name), path, content_type)
    return {"job_id": job["id"], "status": "queued"}


async def _submit_multipart(request: Request, p: Principal, provider: ProviderChoice) -> dict:
    limit = get_settings().max_file_size_bytes
    with tempfile.TemporaryDirectory(prefix="process-upload-") as tmp:
        form = await read_form(request, Path(tmp), file_field="file", max_file_bytes=limit)
        url = (form.fields.get("url") or "").strip()
        if form.file and url:
            raise HTTPException(400, "Provide either url or file, not both")
        if not form.file and not url:
            raise HTTPException(400, "Neither url nor file provided")
        try:
            options = ProcessOptions(**{k: v for k, v in form.fields.items() if k in _OPTION_FIELDS})
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from exc
        if url:
            return await run_in_threadpool(_submit_url, p.user_id, url, options, provider)
        if form.file is None or form.file.size == 0:
            raise HTTPException(400, "The uploaded file is empty")
        name = blobs.safe_file_name(form.file.filename, default="upload.mp4")
        return await run_in_threadpool(_submit_file, p.user_id, options, provider, name,
                                       form.file.path, form.file.content_type)


@router.post("/process/upload-url", dependencies=[SUBMITS_JOB], responses=answers(ProcessUpload))
def presign_process_upload(
    body: ProcessUploadBody,
    p: Principal = Depends(require("ai:generate")),
    x_gemini_key: str | None = key_header(),
) -> dict[str, Any]:
    """For files too large for a request body: PUT the file to `upload_url`; the job
    starts when the object lands (S3 trigger)."""
    provider = _provider(x_gemini_key)
    name = blobs.safe_file_name(body.file_name, default="upload.mp4")
    options = ProcessOptions(**body.model_dump(include=_OPTION_FIELDS))
    job = service.create_job(p.user_id, options, provider, None, file_name=name)
    url = Blobs().presign_put(service.upload_key(job, name), body.content_type)
    return {"job_id": job["id"], "status": "queued", "upload_url": url, "method": "PUT",
            "headers": {"Content-Type": body.content_type}}
