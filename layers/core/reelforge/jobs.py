"""Job lifecycle: one record per long-running thing, with progress events.

Status moves queued -> running -> completed | failed and never leaves a terminal state
(conditional writes), so a late progress update can't resurrect a failed job. Every
change appends an event (`JOB#<id>` / `EVENT#<seq>`) that the SSE endpoint streams and
`/api/ai/timeline` summarises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reelforge import quotas
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, NotFound, Table, epoch_in, new_id, now_iso

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
TERMINAL = frozenset({COMPLETED, FAILED})
# A job whose input is uploaded names the S3 prefix of its upload here; the scheduled
# cleanup deletes that prefix with the job.
UPLOAD_PREFIX_FIELD = "upload_prefix"
# A job that never finishes still disappears eventually.
_ACTIVE_TTL_S = 7 * 24 * 3600
_OPEN = "#status IN (:queued, :running)"
_OPEN_VALUES = {":queued": QUEUED, ":running": RUNNING}


def create(
    owner: str,
    kind: str,
    *,
    project_id: str | None = None,
    params: dict[str, Any] | None = None,
    message: str = "Queued",
    job_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    quotas.check_admitted()
    jid = job_id or new_id()
    ts = now_iso()
    item = {
        **Keys.job(jid),
        **Keys.owner_index(owner, "JOB", ts),
        "type": "job",
        "id": jid,
        "kind": kind,
        "owner": owner,
        "project_id": project_id,
        "status": QUEUED,
        "progress": 0.0,
        "stage": "queued",
        "message": message,
        "error": None,
        "result": None,
        "params": params or {},
        "event_seq": 0,
        "createdAt": ts,
        "updatedAt": ts,
        "expires_at": epoch_in(_ACTIVE_TTL_S),
        **(extra or {}),
    }
    Table().put_new(item)
    _append_event(jid, 0, item)
    return item


# --- presentation: each surface says how its kinds of job look to a client ---------------

Presenter = Callable[[dict[str, Any]], dict[str, Any]]
_presenters: dict[str, Presenter] = {}


def presents(*kinds: str) -> Callable[[Presenter], Presenter]:
    """Register the decorated function as the presenter of these job kinds.

    A presenter returns the kind's own fields of a job view (fresh presigned URLs for its
    artifacts, a grade's graded_url...); the job routes add them to the shared fields."""

    def register(fn: Presenter) -> Presenter:
        for kind in kinds:
            _presenters[kind] = fn
        return fn

    return register


def present(job: dict[str, Any]) -> dict[str, Any]:
    """The kind's own fields of `job`; a kind without a presenter shows its finished result."""
    presenter = _presenters.get(job["kind"])
    if presenter is not None:
        return presenter(job)
    return {"result": job.get("result")} if job["status"] == COMPLETED else {}


# --- progress frames: a kind may show its progress in its own seed's words ------------------

Framer = Callable[[dict[str, Any]], dict[str, Any]]
_framers: dict[str, Framer] = {}


def frames(*kinds: str) -> Callable[[Framer], Framer]:
    """Register the decorated function as the progress-frame shaper of these job kinds.

    It gets a generic frame (`status` queued|running|completed|failed|connected|done, `stage`,
    `progress` 0-100, `message`, `timestamp` ISO) and returns the frame its seed's clients
    expect (seed 003 names the stage in `status` and stamps "HH:MM:SS")."""

    def register(fn: Framer) -> Framer:
        for kind in kinds:
            _framers[kind] = fn
        return fn

    return register


def frame(kind: str, generic: dict[str, Any]) -> dict[str, Any]:
    framer = _framers.get(kind)
    return framer(generic) if framer is not None else generic


# --- aliases: ids that name a job indirectly (seed 003's generation ids and topic slugs) -------

Resolver = Callable[[str, str], "str | None"]
_resolvers: list[Resolver] = []


def resolves(fn: Resolver) -> Resolver:
    """Register `fn(owner, ident) -> job id | None`: the job routes ask it for an id that is
    not a job of the caller's."""
    _resolvers.append(fn)
    return fn


def get_for(ident: str, owner: str) -> dict[str, Any]:
    """The caller's job named `ident` directly or through a registered alias; NotFound."""
    try:
        return get(ident, owner)
    except NotFound:
        for resolve in _resolvers:
            job_id = resolve(owner, ident)
            if job_id:
                return get(job_id, owner)
        raise


def get(job_id: str, owner: str | None = None) -> dict[str, Any]:
    """The job; NotFound also when it belongs to someone else."""
    item = Table().get(Keys.job(job_id))
    if owner is not None and item.get("owner") != owner:
        raise NotFound(job_id)
    return item


def set_running(job_id: str, *, execution_arn: str | None = None, message: str = "Started") -> bool:
    return _change(
        job_id,
        {"status": RUNNING, "stage": "starting", "message": message, "execution_arn": execution_arn},
    )


def progress(job_id: str, *, stage: str, fraction: float, message: str = "",
             fields: dict[str, Any] | None = None) -> bool:
    """Record progress (0..1) and any bookkeeping `fields` of the kind (a studio job's step
    counters). Progress never goes backwards; returns False if the job is over."""
    fraction = max(0.0, min(1.0, float(fraction)))
    try:
        item = Table().update(
            Keys.job(job_id),
            {**(fields or {}), "status": RUNNING, "stage": stage, "progress": fraction,
             "message": message or stage, "updatedAt": now_iso()},
            add={"event_seq": 1},
            condition=_OPEN + " AND #p <= :p",
            condition_values={**_OPEN_VALUES, ":p": fraction},
            condition_names={"#status": "status", "#p": "progress"},
        )
    except ConditionFailed:
        return False
    _append_event(job_id, item["event_seq"], item)
    return True


def complete(job_id: str, result: dict[str, Any], *, message: str = "Completed",
             stage: str = "completed") -> bool:
    return _change(
        job_id,
        {"status": COMPLETED, "stage": stage, "progress": 1.0, "message": message,
         "result": result, "expires_at": epoch_in(get_settings().job_retention_seconds)},
    )


def fail(job_id: str, error: str, *, stage: str | None = None) -> bool:
    values: dict[str, Any] = {
        "status": FAILED, "message": f"Error: {error}", "error": error,
        "expires_at": epoch_in(get_settings().job_retention_seconds),
    }
    if stage:
        values["stage"] = stage
    return _change(job_id, values)


def set_fields(job_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Update bookkeeping fields (not status) of a job."""
    return Table().update(Keys.job(job_id), {**values, "updatedAt": now_iso()})


def count_done(job_id: str, counter: str, part: str | int) -> int:
    """Mark one part of the job done (clip 3, slide 7) in the set `counter`; how many are.

    A set, not a number: a step that Step Functions retries after it finished (a transient
    error on its way out, a Lambda killed before it answered) marks the same part again, and
    still counts once."""
    return len(Table().update(Keys.job(job_id), {}, add={counter: {str(part)}})[counter])


def done_count(job: dict[str, Any], counter: str) -> int:
    """How many parts `count_done` has marked."""
    return len(job.get(counter) or ())


def events(job_id: str, after_seq: int = -1) -> list[dict[str, Any]]:
    """The job's events after `after_seq`, in order (a key range: a poll reads only new ones)."""
    first = Keys.job_event(job_id, 0)
    after = Keys.job_event(job_id, after_seq)["SK"] if after_seq >= 0 else "EVENT#"
    last = Keys.job_event(job_id, 10**8 - 1)["SK"]
    return [{k: item[k] for k in ("seq", "status", "stage", "progress", "message", "timestamp")}
            for item in Table().query_between(first["PK"], after, last)]


def list_for_owner(owner: str, *, limit: int = 50) -> list[dict[str, Any]]:
    return list(Table().query_owner(owner, "JOB", limit=limit))


def _change(job_id: str, values: dict[str, Any]) -> bool:
    """Status change from an open state; False if the job had already finished."""
    try:
        item = Table().update(
            Keys.job(job_id),
            {**values, "updatedAt": now_iso()},
            add={"event_seq": 1},
            condition=_OPEN,
            condition_values=_OPEN_VALUES,
            condition_names={"#status": "status"},
        )
    except ConditionFailed:
        return False
    _append_event(job_id, item["event_seq"], item)
    return True


def _append_event(job_id: str, seq: int, job: dict[str, Any]) -> None:
    Table().put(
        {
            **Keys.job_event(job_id, seq),
            "type": "job_event",
            "seq": seq,
            "status": job["status"],
            "stage": job["stage"],
            "progress": job["progress"],
            "message": job.get("message") or "",
            "timestamp": job.get("updatedAt") or now_iso(),
            "expires_at": job.get("expires_at"),
        }
    )
