"""What the fake vendor servers share: a threaded HTTP server on loopback that records every
request and answers from a FIFO queue of replies, then from a ``handler`` callback.

A fake subclasses ``RecordingServer`` with its ``Recorded`` subclass (the request plus the
properties its tests assert on) and writes ``_answer``: auth, routes, and what to say when
nothing is queued (``_next_reply``). The server, its thread, recording, the queue and the
reply's encoding are here; a fake with more to say per path adds fields with ``_path_fields``
and its own encodings with ``_payload``. ``message_texts`` reads the chat shape that OpenAI
and Anthropic share.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes

    @property
    def api_key(self) -> str | None:
        """The ``Authorization: Bearer`` token (a fake whose API takes another header overrides)."""
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


@dataclass
class FakeResponse:
    """What the fake answers: a status, a JSON body (or raw bytes) and an optional delay."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def message_texts(messages: list[dict[str, Any]]) -> list[str]:
    """The text of chat ``messages`` (OpenAI's and Anthropic's shape: each ``content`` a string
    or a list of typed parts, of which the ``text`` ones count), in order."""
    texts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [part.get("text", "") for part in content if part.get("type") == "text"]
    return texts


R = TypeVar("R", bound=Recorded)


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server API)
        pass


class RecordingServer(Generic[R]):
    """Threaded loopback server; use as a context manager (``with FakeX() as fake``)."""

    vendor: ClassVar[str]  # "OpenAI": the server is "FakeOpenAI", its thread "fake-openai"
    request_type: type[R]
    methods: ClassVar[tuple[str, ...]] = ("POST", "GET")  # others: http.server's 501
    base_path: ClassVar[str] = ""  # what ``base_url`` ends in ("/v1" where the SDK wants it)
    reply_headers: ClassVar[dict[str, str]] = {"Content-Type": "application/json"}

    def __init__(self, api_key: str, *,
                 handler: Callable[[R], FakeResponse | None] | None = None) -> None:
        self.api_key = api_key
        self.handler = handler
        self.requests: list[R] = []
        self._queue: deque[FakeResponse | Callable[[R], FakeResponse | None]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        fake = self

        def serve(http: BaseHTTPRequestHandler) -> None:
            fake._serve(http)

        handler = type("_Handler", (_QuietHandler,), {f"do_{m}": serve for m in self.methods})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown between tests
            name=f"fake-{self.vendor.lower()}",
            daemon=True,
        )
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"Fake{self.vendor} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.base_path}"

    # -- configuring answers ---------------------------------------------------------------

    def reply(self, response: FakeResponse | Callable[[R], FakeResponse | None]) -> Self:
        """Queue one answer (a response, or a callback for just the next request)."""
        with self._lock:
            self._queue.append(response)
        return self

    def reply_raw(self, status: int, raw: bytes, content_type: str = "text/plain") -> Self:
        """Queue a body that is not JSON (a proxy's HTML error page, a truncated reply)."""
        return self.reply(FakeResponse(status=status, raw=raw, headers={"Content-Type": content_type}))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- serving ---------------------------------------------------------------------------

    def _answer(self, request: R) -> FakeResponse:
        raise NotImplementedError

    def _path_fields(self, path: str) -> dict[str, Any]:
        """The request type's own fields that its path decides (a route, a model...)."""
        return {}

    def _next_reply(self, request: R) -> FakeResponse | None:
        """The next queued answer, else ``handler``'s (a callback is called with ``request``)."""
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        if queued is None and self.handler is not None:
            queued = self.handler
        if callable(queued):
            queued = queued(request)
        return queued

    def _record(self, http: BaseHTTPRequestHandler) -> R:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        parts = urlsplit(http.path)
        request = self.request_type(
            method=http.command, path=parts.path, query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in http.headers.items()}, body=body, raw_body=raw,
            **self._path_fields(parts.path))
        with self._lock:
            self.requests.append(request)
        return request

    def _payload(self, request: R, response: FakeResponse, headers: dict[str, str]) -> bytes:
        """The bytes to send (``headers`` may still be changed to suit them)."""
        if response.raw is not None:
            return response.raw
        return json.dumps(response.body if response.body is not None else {}).encode()

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        request = self._record(http)
        response = self._answer(request)
        if response.delay_s:
            time.sleep(response.delay_s)
        headers = {**self.reply_headers, **response.headers}
        payload = self._payload(request, response, headers)
        try:
            http.send_response(response.status)
            for name, value in headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(payload)))
            http.end_headers()
            http.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer
