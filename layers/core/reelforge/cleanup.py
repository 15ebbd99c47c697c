"""Retention: remove expired jobs with their artifacts, orphaned artifacts, leaked slots,
and fail jobs whose workflow ended (or never started) without finishing them."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from boto3.dynamodb.conditions import Attr

from reelforge import aws, blobs, jobs, slots
from reelforge.blobs import Blobs
from reelforge.store import Keys, Table

# A job is created just before its execution starts; one still without an execution after
# this long never got one (the request that made it died in between).
NEVER_STARTED_AFTER_S = 15 * 60


def run_cleanup(now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    table, store = Table(), Blobs()
    abandoned = fail_abandoned_jobs(table, now)
    expired_jobs = objects = 0
    for job in table.scan(FilterExpression=Attr("type").eq("job") & Attr("expires_at").lt(int(now))):
        if job["status"] not in jobs.TERMINAL and job["expires_at"] > now:
            continue
        objects += delete_job(job, table=table, store=store)
        expired_jobs += 1
    objects += _sweep_orphans(table, store)
    freed = slots.reclaim()
    return {"abandoned_jobs": abandoned, "expired_jobs": expired_jobs, "deleted_objects": objects,
            "freed_slots": freed}


def fail_abandoned_jobs(table: Table, now: float) -> int:
    """Fail open jobs whose execution is no longer running: so no job shows `running` forever
    and its slot is freed (slots.reclaim, after this). Returns how many were failed."""
    sfn = aws.client("stepfunctions")
    failed = 0
    for job in table.scan(FilterExpression=Attr("type").eq("job") & Attr("status").is_in([jobs.QUEUED, jobs.RUNNING])):
        arn = job.get("execution_arn")
        if not arn:
            created = dt.datetime.fromisoformat(job["createdAt"].replace("Z", "+00:00")).timestamp()
            reason = "its workflow never started" if now - created > NEVER_STARTED_AFTER_S else None
        else:
            try:
                status = sfn.describe_execution(executionArn=arn)["status"]
                reason = None if status == "RUNNING" else f"its workflow ended ({status}) before the job finished"
            except sfn.exceptions.ExecutionDoesNotExist:
                reason = "interrupted by a restart of reelforge"  # the embedded AWS forgets executions
        if reason and jobs.fail(job["id"], reason):
            failed += 1
    return failed


def delete_job(job: dict[str, Any], *, table: Table, store: Blobs) -> int:
    """Delete a job's artifacts, its upload and its records; returns objects deleted."""
    removed = store.delete_prefix(blobs.job_prefix(job["id"]))
    if job.get(jobs.UPLOAD_PREFIX_FIELD):
        removed += store.delete_prefix(job[jobs.UPLOAD_PREFIX_FIELD])
    for item in table.query_partition(Keys.job(job["id"])["PK"]):
        table.delete({"PK": item["PK"], "SK": item["SK"]})
    return removed


def _sweep_orphans(table: Table, store: Blobs) -> int:
    """Artifacts whose job record is gone (e.g. removed by DynamoDB TTL first)."""
    removed = 0
    prefix = f"{blobs.ARTIFACTS_PREFIX}jobs/"
    seen: set[str] = set()
    for key in store.list_keys(prefix):
        job_id = key[len(prefix):].split("/", 1)[0]
        if job_id in seen:
            continue
        seen.add(job_id)
        if not any(True for _ in table.query_partition(Keys.job(job_id)["PK"], "META")):
            removed += store.delete_prefix(f"{prefix}{job_id}/")
    return removed
