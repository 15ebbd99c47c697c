"""Per-user limits on job submissions: at most JOB_SUBMISSIONS_PER_MINUTE jobs a minute.

A route that starts a job declares it (`dependencies=[deps.SUBMITS_JOB]`), which calls
`admit_job` before the route does anything: a refused submission leaves nothing half made,
and the caller gets a 429 with `Retry-After`. The count is one item per user and minute
(`Keys.job_rate`), raised by a conditional ADD, so concurrent Lambdas agree on it. API
Gateway's throttling (template.yaml) caps everyone's requests together in the cloud.

`jobs.create` calls `check_admitted()`: a job created inside a request whose route did not
declare SUBMITS_JOB is a programming error, and fails loudly instead of going uncounted.
Jobs made outside a request (an S3 trigger, a step) are not the caller's submissions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from reelforge.errors import ReelforgeError
from reelforge.settings import get_settings
from reelforge.store import ConditionFailed, Keys, Table

# The current request's admission (a dict, so a sync route's thread, which runs in a copy of
# the context, sees what the dependency wrote). None outside a request.
_request: ContextVar[dict[str, bool] | None] = ContextVar("reelforge_request", default=None)


class RateLimited(ReelforgeError):
    """Over a per-user limit (-> 429 with Retry-After)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, code="RATE_LIMITED")
        self.retry_after_s = retry_after_s


@contextmanager
def in_request() -> Iterator[None]:
    """Marks the work done inside an HTTP request (api/app.py wraps every request in it)."""
    token = _request.set({"admitted": False})
    try:
        yield
    finally:
        _request.reset(token)


def admit_job(user_id: str) -> None:
    """Count one job submission of the user, or raise RateLimited."""
    state = _request.get()
    if state is not None:
        state["admitted"] = True
    limit = get_settings().job_submissions_per_minute
    if limit == 0:
        return
    now = time.time()
    minute = int(now // 60)
    try:
        Table().count_below(Keys.job_rate(user_id, minute), "count", limit, expires_at=(minute + 2) * 60)
    except ConditionFailed:
        retry_after = max(1, (minute + 1) * 60 - int(now))
        raise RateLimited(f"Too many jobs submitted: at most {limit} a minute; retry in {retry_after} s",
                          retry_after_s=retry_after) from None


def check_admitted() -> None:
    state = _request.get()
    if state is not None and not state["admitted"]:
        raise RuntimeError("A route created a job without declaring deps.SUBMITS_JOB")
