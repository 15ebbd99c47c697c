"""A fake Runway API on loopback, for driving the real ``runwayml`` SDK in tests.

The SDK is pointed at it with ``RunwayML(base_url=fake.base_url)``; nothing in the SDK is
mocked. It speaks the task API's shape:

    POST /v1/image_to_video   -> ``{"id": task_id}``
    GET  /v1/tasks/{id}       -> the task: PENDING/THROTTLED/RUNNING with an estimated cost,
                                 SUCCEEDED with ``output`` URLs, FAILED with ``failure`` and
                                 ``failureCode``, CANCELLED
    DELETE /v1/tasks/{id}     -> 204, the task is CANCELLED
    GET  /videos/{id}.mp4     -> the finished video (no auth: it stands for a signed CDN URL)

Auth first, like the real API: ``Authorization: Bearer`` with the right key and an
``X-Runway-Version`` header, else 401/400 with ``{"error": ...}``. Each created task follows
the next ``TaskScript`` queued with ``script_task`` (default: succeed on the first poll), so
a test can have a task stay pending and running for several polls, then succeed or fail.
``reply``/``reply_error`` queue an answer for the next API request instead (429, 500...).
"""

from __future__ import annotations

import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes.http_fake import FakeResponse, Recorded, RecordingServer

_TASK = re.compile(r"^/v1/tasks/(?P<id>[^/]+)$")
_VIDEO = re.compile(r"^/videos/(?P<id>[^/]+)\.mp4$")
# Enough of an MP4 for a Content-Type check: an ftyp box.
DEFAULT_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


@dataclass
class RecordedRequest(Recorded):
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/v1/")


Handler = Callable[[RecordedRequest], "FakeResponse | None"]


@dataclass
class TaskScript:
    """How one task behaves when polled: ``pending`` polls PENDING (``throttled`` of them
    THROTTLED first), ``running`` polls RUNNING, then SUCCEEDED with ``video`` served by the
    fake, or FAILED with ``failure``/``failure_code`` when ``failure`` is set."""

    pending: int = 0
    running: int = 0
    throttled: int = 0
    video: bytes = DEFAULT_VIDEO
    failure: str | None = None
    failure_code: str | None = None


@dataclass
class Task:
    id: str
    script: TaskScript
    request: Any
    created_at: str
    polls: int = 0
    cancelled: bool = False


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    return {"error": message, **extra}


class FakeRunway(RecordingServer[RecordedRequest]):
    """Threaded loopback server; use as a context manager (``with FakeRunway() as fake``)."""

    vendor = "Runway"
    request_type = RecordedRequest
    methods = ("POST", "GET", "DELETE")
    reply_headers = {"Content-Type": "application/json", "x-request-id": "req_fake"}

    def __init__(self, api_key: str = "key_fake-runway-0123456789", *,
                 handler: Handler | None = None) -> None:
        super().__init__(api_key, handler=handler)
        self.tasks: dict[str, Task] = {}
        self._scripts: deque[TaskScript] = deque()

    def video_url(self, task_id: str) -> str:
        return f"{self.base_url}/videos/{task_id}.mp4"

    # -- configuring answers ---------------------------------------------------------------

    def script_task(self, script: TaskScript | None = None, **kwargs: Any) -> FakeRunway:
        """Queue how the next created task behaves (``TaskScript`` or its fields)."""
        with self._lock:
            self._scripts.append(script or TaskScript(**kwargs))
        return self

    def reply_rate_limit(self) -> FakeRunway:
        return self.reply(FakeResponse(429, error_body("You have exceeded the rate limit."),
                                       headers={"retry-after": "1"}))

    def reply_error(self, status: int, message: str | None = None, *, delay_s: float = 0.0,
                    **extra: Any) -> FakeRunway:
        return self.reply(FakeResponse(status, error_body(message or f"fake error {status}", **extra),
                                       delay_s=delay_s))

    # -- serving ---------------------------------------------------------------------------

    def _answer(self, request: RecordedRequest) -> FakeResponse:
        video = _VIDEO.match(request.path)
        if video and request.method == "GET":
            task = self.tasks.get(video["id"])
            if task is None or task.script.failure or task.cancelled:
                return FakeResponse(404, raw=b"not found", headers={"Content-Type": "text/plain"})
            return FakeResponse(raw=task.script.video, headers={"Content-Type": "video/mp4"})
        if not request.api_key:
            return FakeResponse(401, error_body("Missing API key. Pass it as a Bearer token."))
        if request.api_key != self.api_key:
            return FakeResponse(401, error_body("Invalid API key."))
        if not request.headers.get("x-runway-version"):
            return FakeResponse(400, error_body("The X-Runway-Version header is required."))
        queued = self._next_reply(request)
        if queued is not None:
            return queued
        if request.method == "POST" and request.path == "/v1/image_to_video":
            return self._create(request)
        match = _TASK.match(request.path)
        if match and request.method in ("GET", "DELETE"):
            task = self.tasks.get(match["id"])
            if task is None:
                return FakeResponse(404, error_body("Task not found."))
            if request.method == "DELETE":
                task.cancelled = True
                return FakeResponse(204, raw=b"")
            return FakeResponse(body=self._task_body(task))
        return FakeResponse(404, error_body(f"Not found: {request.method} {request.path}"))

    def _create(self, request: RecordedRequest) -> FakeResponse:
        body = request.body if isinstance(request.body, dict) else {}
        missing = [k for k in ("model", "promptImage", "ratio") if k not in body]
        if missing:
            return FakeResponse(400, error_body("Validation of body failed",
                                                issues=[{"path": [k], "message": "Required"}
                                                        for k in missing]))
        with self._lock:
            script = self._scripts.popleft() if self._scripts else TaskScript()
        task = Task(id=str(uuid.uuid4()), script=script, request=body,
                    created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
        self.tasks[task.id] = task
        return FakeResponse(body={"id": task.id})

    def _task_body(self, task: Task) -> dict[str, Any]:
        task.polls += 1
        script = task.script
        base = {"id": task.id, "createdAt": task.created_at}
        if task.cancelled:
            return {**base, "status": "CANCELLED", "cost": {"credits": 0}}
        if task.polls <= script.throttled:
            return {**base, "status": "THROTTLED", "estimatedCost": {"credits": 25}}
        if task.polls <= script.throttled + script.pending:
            return {**base, "status": "PENDING", "estimatedCost": {"credits": 25}}
        done = script.throttled + script.pending + script.running
        if task.polls <= done:
            progress = (task.polls - script.throttled - script.pending) / (script.running + 1)
            return {**base, "status": "RUNNING", "estimatedCost": {"credits": 25},
                    "progress": round(progress, 2)}
        if script.failure:
            return {**base, "status": "FAILED", "cost": {"credits": 0}, "failure": script.failure,
                    "failureCode": script.failure_code}
        return {**base, "status": "SUCCEEDED", "cost": {"credits": 25},
                "output": [self.video_url(task.id)]}
