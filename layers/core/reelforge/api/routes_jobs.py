"""Job status in the seeds' shapes (/api/job, /api/status), SSE progress, AI timeline.

Shared by every surface: a job's own fields come from the presenter its surface registered
(`jobs.presents`), so nothing here knows a kind of job."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from reelforge import jobs
from reelforge.api.deps import require, require_any
from reelforge.api.openapi import EVENT_STREAM, answers
from reelforge.auth import Principal
from reelforge.store import NotFound

router = APIRouter(prefix="/api", tags=["jobs"])
# Who may start a job may follow it: an AutoVio token (its scopes have no jobs:read) polls
# the jobs its ai:* scopes started. Another user's job is 404 whatever the scopes.
FOLLOW_JOBS = require_any("jobs:read", "ai:analyze", "ai:generate")
_SEED000_STATUS = {"queued": "pending"}
_HEARTBEAT_S = 15.0
_APPEAR_WAIT_S = 5.0


# --- answers (documentation: api/openapi.answers) ---

Percent = Field(ge=0, le=100, description="0-100")


class JobState(BaseModel):
    """GET /api/job/{id}: seed 000's job. The fields after `variants` are the kind's own
    (a clips job's clips, an edit's variants, a generation's video...): open, per kind."""
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": "3f0c9a6e2b7d4e1f", "project_id": "a1b2c3d4", "kind": "edit", "status": "running",
        "progress": 40, "stage": "rendering", "error": None, "variants": []}]})
    id: str
    project_id: str | None
    kind: str = Field(description="process, edit, grade, export, generate, studio, works, ...")
    status: str = Field(description="pending, running, completed or failed")
    progress: int = Percent
    stage: str | None
    error: str | None
    variants: list[dict[str, Any]] = Field(description="an edit's variants; empty for other kinds")


class JobStatus(BaseModel):
    """GET /api/status/{id}: seed 002's fields and seed 003's progress/message/timestamp,
    then the kind's own fields (open). A generation's `status` names its stage (seed 003)."""
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "job_id": "3f0c9a6e2b7d4e1f", "kind": "process", "status": "running", "progress": 55,
        "stage": "rendering", "message": "Rendering clip 2 of 4", "error": None,
        "timestamp": "2026-12-02T04:11:16Z", "created_at": "2026-12-02T04:10:02Z"}]})
    job_id: str
    kind: str
    status: str = Field(description="queued, running, completed or failed; a generation's "
                                    "stage name, script_ready or error")
    progress: int = Percent
    stage: str | None = None
    message: str | None = None
    error: str | None = None
    timestamp: str | None = Field(default=None, description="last change (ISO 8601; HH:MM:SS for a generation)")
    created_at: str | None = None


class Operation(BaseModel):
    job_id: str
    kind: str
    status: Literal["queued", "running", "completed", "failed"]
    stage: str | None
    progress: int = Percent
    message: str | None
    error: str | None
    project_id: str | None
    created_at: str | None
    updated_at: str | None


class Operations(BaseModel):
    operations: list[Operation] = Field(description="newest first")
    count: int


def status_view(job: dict[str, Any]) -> dict[str, Any]:
    """The /api/status shape: seed 002's fields plus seed 003's progress/message/timestamp."""
    view = {
        "job_id": job["id"],
        "kind": job["kind"],
        "status": job["status"],
        "progress": round(100 * float(job.get("progress") or 0)),
        "stage": job.get("stage"),
        "message": job.get("message"),
        "error": job.get("error"),
        "timestamp": job.get("updatedAt"),
        "created_at": job.get("createdAt"),
    }
    view.update(jobs.present(job))  # the owning surface's fields (see jobs.presents)
    return jobs.frame(job["kind"], view)


def job_view(job: dict[str, Any]) -> dict[str, Any]:
    """Seed 000's /api/job shape (status pending|running|completed|failed)."""
    return {
        "id": job["id"],
        "project_id": job.get("project_id"),
        "kind": job["kind"],
        "status": _SEED000_STATUS.get(job["status"], job["status"]),
        "progress": round(100 * float(job.get("progress") or 0)),
        "stage": job.get("stage"),
        "error": job.get("error"),
        "variants": [],
        **jobs.present(job),  # the owning surface's fields (see jobs.presents)
    }


@router.get("/job/{job_id}", responses=answers(JobState))
def get_job(job_id: str, p: Principal = Depends(FOLLOW_JOBS)) -> dict[str, Any]:
    return job_view(jobs.get_for(job_id, p.user_id))


@router.get("/status/{job_id}", responses=answers(JobStatus))
def get_status(job_id: str, p: Principal = Depends(FOLLOW_JOBS)) -> dict[str, Any]:
    """A job's state; `job_id` may also be an alias a surface resolves (seed 003's
    generation id or topic slug)."""
    return status_view(jobs.get_for(job_id, p.user_id))


@router.get("/progress/{job_id}", response_class=StreamingResponse, responses=EVENT_STREAM)
async def progress_stream(
    job_id: str,
    p: Principal = Depends(FOLLOW_JOBS),
    last_event_id: str | None = Header(default=None),
    max_seconds: float = Query(default=900, gt=0, le=3600),
) -> StreamingResponse:
    """Server-Sent Events: every progress change, then the final state and `done`.

    Each event has an `id:` (the event sequence), so a client that reconnects with
    `Last-Event-ID` resumes where it left off; a comment line every 15 s keeps proxies from
    closing a quiet stream. `job_id` may be an alias (see jobs.resolves).
    """
    job = await _job_soon(job_id, p.user_id)  # 404 before the stream starts
    # isdecimal, not isdigit: isdigit() also takes '²', which int() refuses.
    after = int(last_event_id) if last_event_id and last_event_id.isdecimal() else -1
    return StreamingResponse(
        _events(job["id"], job["kind"], after, max_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no",
                 "Connection": "keep-alive"},
    )


async def _job_soon(ident: str, owner: str) -> dict[str, Any]:
    """The caller's job `ident`, waiting up to 5 s for it to appear: seed 003's front end
    opens the stream at the moment it posts the generation, so the two requests race.
    Someone else's id waits as long as an unknown one: the time of the 404 must not tell
    a caller that the id exists (tests/integration/test_isolation.py)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _APPEAR_WAIT_S
    while True:
        try:
            return await asyncio.to_thread(jobs.get_for, ident, owner)
        except NotFound:
            if loop.time() >= deadline:
                raise
        await asyncio.sleep(0.5)


async def _events(job_id: str, kind: str, after: int, max_seconds: float) -> AsyncIterator[str]:
    def frame(payload: dict[str, Any]) -> dict[str, Any]:
        return jobs.frame(kind, {"job_id": job_id, **payload})

    yield _sse(frame({"status": "connected", "progress": 0, "message": "Connected to progress stream",
                      "timestamp": _now()}))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    quiet_since = loop.time()
    while loop.time() < deadline:
        # Each poll reads only the new events; the job record only when its last event says it
        # has finished, or while the stream is quiet (the job may have expired).
        new = await asyncio.to_thread(jobs.events, job_id, after)
        for ev in new:
            after = ev["seq"]
            yield _sse(frame({**ev, "progress": round(100 * float(ev["progress"]))}), event_id=ev["seq"])
            quiet_since = loop.time()
        ended = bool(new) and new[-1]["status"] in jobs.TERMINAL
        if ended or not new:
            try:
                job = await asyncio.to_thread(jobs.get, job_id)
            except NotFound:
                yield _sse(frame({"status": "failed", "progress": 0, "message": "Job expired",
                                  "timestamp": _now()}))
                return
            if job["status"] in jobs.TERMINAL and (ended or not await asyncio.to_thread(jobs.events, job_id, after)):
                yield _sse(status_view(job))
                yield _sse(frame({"status": "done", "progress": 100, "message": "Stream ended",
                                  "timestamp": _now()}))
                return
        if loop.time() - quiet_since >= _HEARTBEAT_S:
            yield ": heartbeat\n\n"
            quiet_since = loop.time()
        await asyncio.sleep(0.5)
    yield ": stream time limit reached, reconnect with Last-Event-ID\n\n"


def _sse(payload: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {json.dumps(payload, default=str)}\n\n"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@router.get("/ai/timeline", responses=answers(Operations))
def ai_timeline(
    p: Principal = Depends(require("jobs:read")), limit: int = Query(default=50, ge=1, le=200)
) -> dict[str, Any]:
    """Recent long-running (AI) operations of the caller, newest first."""
    items = [
        {"job_id": j["id"], "kind": j["kind"], "status": j["status"], "stage": j.get("stage"),
         "progress": round(100 * float(j.get("progress") or 0)), "message": j.get("message"),
         "error": j.get("error"), "project_id": j.get("project_id"),
         "created_at": j.get("createdAt"), "updated_at": j.get("updatedAt")}
        for j in jobs.list_for_owner(p.user_id, limit=limit)
    ]
    return {"operations": items, "count": len(items)}
