"""Concurrency slots: at most MAX_CONCURRENT_JOBS jobs of a kind run at once.

A slot is an item `SLOTS#<kind>` / `SLOT#<n>` naming the job holding it, claimed with a
conditional put. A slot whose holder has finished (or vanished) counts as free, so a
job that crashed without releasing its slot cannot block the queue forever.
"""

from __future__ import annotations

from boto3.dynamodb.conditions import Attr

from reelforge import jobs
from reelforge.errors import ReelforgeError
from reelforge.store import ConditionFailed, Keys, NotFound, Table, now_iso


class SlotsBusy(ReelforgeError):
    """Every slot is held by a running job; Step Functions retries later."""


def acquire(kind: str, job_id: str, limit: int) -> int:
    table = Table()
    holders = {item["SK"]: item for item in table.query_partition(f"SLOTS#{kind}")}
    for item in holders.values():
        if item.get("job_id") == job_id:
            return int(item["slot"])  # a retried step already holds one
    for n in range(limit):
        key = Keys.slot(kind, n)
        current = holders.get(key["SK"])
        item = {**key, "type": "slot", "slot": n, "job_id": job_id, "acquired_at": now_iso()}
        try:
            if current is None:
                table.put_new(item)
                return n
            if _holder_finished(current["job_id"]):
                table.put(item, condition="job_id = :old",
                          ExpressionAttributeValues={":old": current["job_id"]})
                return n
        except ConditionFailed:
            continue  # someone else got it first
    raise SlotsBusy(f"all {limit} {kind} slots are busy")


def release(kind: str, job_id: str) -> None:
    table = Table()
    for item in table.query_partition(f"SLOTS#{kind}"):
        if item.get("job_id") == job_id:
            _delete_if_held(table, item, job_id)


def reclaim() -> int:
    """Free slots (of every kind) whose job has finished or disappeared; returns how many."""
    table = Table()
    freed = 0
    for item in table.scan(FilterExpression=Attr("type").eq("slot")):
        if _holder_finished(item["job_id"]):
            freed += _delete_if_held(table, item, item["job_id"])
    return freed


def _delete_if_held(table: Table, item: dict, job_id: str) -> int:
    try:
        table.delete({"PK": item["PK"], "SK": item["SK"]}, condition="job_id = :j",
                     values={":j": job_id})
        return 1
    except ConditionFailed:
        return 0


def _holder_finished(job_id: str) -> bool:
    try:
        return jobs.get(job_id)["status"] in jobs.TERMINAL
    except NotFound:
        return True
