"""The clips surface (seed 002): submitting a clips job, starting it when its upload lands,
and presenting the finished job. The `process` state machine's steps are in steps.py."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from reelforge import jobs, uploads
from reelforge.ai.choice import ProviderChoice
from reelforge.blobs import Blobs
from reelforge.clips.schemas import ProcessOptions, Source
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, new_id
from reelforge.workflow import start_execution

KIND = "process"
UPLOADS_PREFIX = "process-uploads/"  # <owner>/<job_id>/<file>: the S3 trigger starts the job
# Each stage's share of the job's overall progress (0..1), in pipeline order.
STAGES: dict[str, tuple[float, float]] = {
    "ingest": (0.02, 0.10),
    "probe": (0.10, 0.12),
    "transcribe": (0.12, 0.56),
    "select": (0.56, 0.62),
    "render": (0.62, 0.98),
    "publish": (0.98, 1.0),
}


def report(job_id: str, stage: str, done: float, message: str) -> None:
    """Progress within a stage (0..1), mapped onto the job's overall progress."""
    lo, hi = STAGES[stage]
    jobs.progress(job_id, stage=stage, fraction=lo + (hi - lo) * max(0.0, min(1.0, done)),
                  message=message)


def upload_key(job: dict[str, Any], file_name: str) -> str:
    """Where the job's video goes; the object landing there starts the job."""
    return f"{job[jobs.UPLOAD_PREFIX_FIELD]}{file_name}"


def create_job(owner: str, options: ProcessOptions, provider: ProviderChoice, source: Source | None,
               *, file_name: str | None = None) -> dict[str, Any]:
    """A queued job; with `source` it starts now, without it waits for its upload."""
    job_id, extra = new_id(), {}
    if source is None:
        # Kept until the upload lands; the sealed key is ciphertext (see keyseal).
        extra["pending_input"] = {"options": options.model_dump(), "provider": provider.model_dump()}
        extra[jobs.UPLOAD_PREFIX_FIELD] = f"{UPLOADS_PREFIX}{owner}/{job_id}/"
    job = jobs.create(owner, KIND, job_id=job_id, extra=extra,
                      params={"options": options.model_dump(), "provider": provider.name,
                              "file_name": file_name})
    if source is not None:
        start(job["id"], owner, source, options, provider)
    return job


def start(job_id: str, owner: str, source: Source, options: ProcessOptions,
          provider: ProviderChoice) -> str:
    return start_execution(get_settings().process_state_machine_arn, job_id, {
        "owner": owner, "source": source.model_dump(), "options": options.model_dump(),
        "provider": provider.model_dump()})


@uploads.handles(UPLOADS_PREFIX)
def on_upload(key: str, size: int) -> dict[str, Any]:
    """An object under process-uploads/<owner>/<job_id>/ starts that job's workflow."""
    parts = key[len(UPLOADS_PREFIX):].split("/")
    if len(parts) != 3:
        return {"key": key, "outcome": "ignored", "reason": "unexpected key layout"}
    owner, job_id, _ = parts
    try:
        job = jobs.get(job_id, owner)
    except NotFound:
        Blobs().delete(key)
        return {"key": key, "outcome": "deleted", "reason": "no such job"}
    pending = job.get("pending_input")
    if job["status"] != jobs.QUEUED or not pending:
        return {"key": key, "outcome": "ignored", "reason": "job already started"}
    if size > get_settings().max_file_size_bytes:
        Blobs().delete(key)
        jobs.fail(job_id, f"upload exceeds the {get_settings().max_file_size_mb} MB limit")
        return {"key": key, "outcome": "failed"}
    if size == 0:
        Blobs().delete(key)
        jobs.fail(job_id, "the uploaded file is empty")
        return {"key": key, "outcome": "failed"}
    # Start first, then drop the pending input: the execution is named after the job, so an
    # event S3 delivers twice starts it once, and a crash between the two leaves the job
    # startable by the redelivered event instead of queued with nothing left to start it.
    start(job_id, owner, Source(kind="upload", key=key), ProcessOptions(**pending["options"]),
          ProviderChoice(**pending["provider"]))
    with suppress(ConditionFailed):
        Table().update(Keys.job(job_id), {}, remove=["pending_input"], condition="attribute_exists(pending_input)")
    return {"key": key, "outcome": "started", "job_id": job_id}


@jobs.presents(KIND)
def present_job(job: dict[str, Any]) -> dict[str, Any]:
    """A finished clips job's fields: every clip with fresh presigned URLs (they expire; the
    keys don't)."""
    if job["status"] != jobs.COMPLETED:
        return {}
    return present_clips(job["result"])


def present_clips(result: dict[str, Any]) -> dict[str, Any]:
    """The finished job with fresh presigned URLs (seed 002's clip fields)."""
    store = Blobs()
    clips = []
    for c in result.get("clips", []):
        clips.append({
            "id": f"{c['name']}", "index": c["index"], "title": c["title"], "hook": c["hook"],
            "score": c["score"], "reason": c["reason"], "start": c["start"], "end": c["end"],
            "duration": round(float(c["end"]) - float(c["start"]), 3), "text": c.get("text", ""),
            "width": c.get("width"), "height": c.get("height"), "reframe": c.get("reframe"),
            "video_url": store.presign_get(c["video_key"]),
            "download_url": store.presign_get(c["video_key"], download_name=f"{c['name']}.mp4"),
            "thumbnail_url": store.presign_get(c["thumbnail_key"]),
            "srt_url": store.presign_get(c["srt_key"]),
            "vtt_url": store.presign_get(c["vtt_key"]),
        })
    return {
        "clips": clips,
        "notes": result.get("notes", ""),
        "provider": result.get("provider"),
        "manifest_url": store.presign_get(result["manifest_key"]),
        "transcript_url": store.presign_get(result["transcript_key"]),
    }
