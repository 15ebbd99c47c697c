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

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_TASK = re.compile(r"^/v1/tasks/(?P<id>[^/]+)$")
_VIDEO = re.compile(r"^/videos/(?P<id>[^/]+)\.mp4$")
# Enough of an MP4 for a Content-Type check: an ftyp box.
DEFAULT_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


@dataclass
class RecordedRequest:
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/v1/")


@dataclass
class FakeResponse:
    """What the fake answers: a status, a JSON body (or raw bytes) and an optional delay."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


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


class FakeRunway:
    """Threaded loopback server; use as a context manager (``with FakeRunway() as fake``)."""

    def __init__(self, api_key: str = "key_fake-runway-0123456789", *,
                 handler: Handler | None = None) -> None:
        self.api_key = api_key
        self.handler = handler
        self.requests: list[RecordedRequest] = []
        self.tasks: dict[str, Task] = {}
        self._scripts: deque[TaskScript] = deque()
        self._queue: deque[FakeResponse | Handler] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeRunway:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                fake._serve(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._serve(self)

            def do_DELETE(self) -> None:  # noqa: N802
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name="fake-runway",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeRunway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeRunway is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def video_url(self, task_id: str) -> str:
        return f"{self.base_url}/videos/{task_id}.mp4"

    # -- configuring answers ---------------------------------------------------------------

    def script_task(self, script: TaskScript | None = None, **kwargs: Any) -> FakeRunway:
        """Queue how the next created task behaves (``TaskScript`` or its fields)."""
        with self._lock:
            self._scripts.append(script or TaskScript(**kwargs))
        return self

    def reply(self, response: FakeResponse | Handler) -> FakeRunway:
        """Queue one answer for the next API request (a response, or a callback)."""
        with self._lock:
            self._queue.append(response)
        return self

    def reply_rate_limit(self) -> FakeRunway:
        return self.reply(FakeResponse(429, error_body("You have exceeded the rate limit."),
                                       headers={"retry-after": "1"}))

    def reply_error(self, status: int, message: str | None = None, *, delay_s: float = 0.0,
                    **extra: Any) -> FakeRunway:
        return self.reply(FakeResponse(status, error_body(message or f"fake error {status}", **extra),
                                       delay_s=delay_s))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- serving ---------------------------------------------------------------------------

    def _record(self, http: BaseHTTPRequestHandler) -> RecordedRequest:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        parts = urlsplit(http.path)
        request = RecordedRequest(
            method=http.command, path=parts.path, query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in http.headers.items()}, body=body, raw_body=raw)
        with self._lock:
            self.requests.append(request)
        return request

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
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        if queued is None and self.handler is not None:
            queued = self.handler
        if callable(queued):
            queued = queued(request)
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

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        request = self._record(http)
        response = self._answer(request)
        if response.delay_s:
            time.sleep(response.delay_s)
        headers = {"Content-Type": "application/json", "x-request-id": "req_fake", **response.headers}
        payload = response.raw if response.raw is not None else json.dumps(
            response.body if response.body is not None else {}).encode()
        try:
            http.send_response(response.status)
            for name, value in headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(payload)))
            http.end_headers()
            http.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer
