"""A fake Anthropic HTTP server on loopback, for driving the real ``anthropic`` SDK in tests.

The SDK is pointed at it with ``Anthropic(base_url=fake.base_url)``; nothing in the SDK is
mocked. It speaks the Messages API shape:

    POST /v1/messages   -> a Message (text, a ``tool_use`` block, a stop reason)

Auth first, like the real API: the key may come as ``x-api-key`` or as
``Authorization: Bearer`` (this SDK version sends the latter); none or a wrong one is 401
``authentication_error``. Errors have Anthropic's envelope
``{"type": "error", "error": {"type", "message"}}``; 529 is ``overloaded_error``. Answers
come from a FIFO queue (``reply_tool``, ``reply_refusal``, ``reply_error``...) and, when it
is empty, from ``handler``; every request is recorded, the refused ones too.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# error.type as Anthropic words it per status.
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
          500: "api_error", 529: "overloaded_error"}


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
        """The key, from whichever header carried it (``x-api-key`` or a Bearer token)."""
        if self.headers.get("x-api-key"):
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return (self.body or {}).get("messages", []) if isinstance(self.body, dict) else []

    @property
    def image_blocks(self) -> list[dict[str, Any]]:
        """Every ``image`` content block of the user turns, in order."""
        return [block for message in self.messages if isinstance(message.get("content"), list)
                for block in message["content"] if block.get("type") == "image"]

    @property
    def prompt_text(self) -> str:
        texts: list[str] = []
        system = (self.body or {}).get("system") if isinstance(self.body, dict) else None
        if isinstance(system, str):
            texts.append(system)
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list):
                texts += [b.get("text", "") for b in content if b.get("type") == "text"]
        return "\n".join(t for t in texts if t)


@dataclass
class FakeResponse:
    """What the fake answers: a status, a JSON body (or raw bytes) and an optional delay."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Handler = Callable[[RecordedRequest], "FakeResponse | None"]


def message_body(content: list[dict[str, Any]], *, stop_reason: str = "end_turn",
                 model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    """A Message with the given content blocks."""
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 50}}


def tool_use_body(value: Any, *, name: str = "answer", tool_id: str = "toolu_fake01") -> dict[str, Any]:
    """A Message whose answer is a call of tool ``name`` with input ``value``."""
    return message_body([{"type": "tool_use", "id": tool_id, "name": name, "input": value}],
                        stop_reason="tool_use")


def error_body(status: int, message: str, *, type_: str | None = None) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_ or _TYPES.get(status, "api_error"),
                                       "message": message}, "request_id": "req_fake"}


class FakeAnthropic:
    """Threaded loopback server; use as a context manager (``with FakeAnthropic() as fake``)."""

    def __init__(self, api_key: str = "sk-ant-fake-anthropic-key-0123456789", *,
                 handler: Handler | None = None) -> None:
        self.api_key = api_key
        self.handler = handler
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse | Handler] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                fake._serve(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name="fake-anthropic",
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

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAnthropic is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- configuring answers ---------------------------------------------------------------

    def reply(self, response: FakeResponse | Handler) -> FakeAnthropic:
        """Queue one answer (a response, or a callback for just the next request)."""
        with self._lock:
            self._queue.append(response)
        return self

    def reply_tool(self, value: Any, *, name: str = "answer") -> FakeAnthropic:
        """Queue a forced tool call whose input is ``value`` (structured output)."""
        tool_id = f"toolu_fake{len(self.requests) + self.pending:02d}"
        return self.reply(FakeResponse(body=tool_use_body(value, name=name, tool_id=tool_id)))

    def reply_text(self, text: str, *, stop_reason: str = "end_turn") -> FakeAnthropic:
        return self.reply(FakeResponse(body=message_body([{"type": "text", "text": text}],
                                                         stop_reason=stop_reason)))

    def reply_refusal(self) -> FakeAnthropic:
        """Queue Claude's refusal: ``stop_reason`` "refusal", no tool call."""
        return self.reply(FakeResponse(body=message_body([], stop_reason="refusal")))

    def reply_rate_limit(self, retry_after_s: int = 1) -> FakeAnthropic:
        return self.reply(FakeResponse(
            429, error_body(429, "Number of request tokens has exceeded your per-minute rate limit"),
            headers={"retry-after": str(retry_after_s)}))

    def reply_overloaded(self) -> FakeAnthropic:
        return self.reply_error(529, "Overloaded")

    def reply_error(self, status: int, message: str | None = None, *, type_: str | None = None,
                    delay_s: float = 0.0) -> FakeAnthropic:
        return self.reply(FakeResponse(status, error_body(status, message or f"fake error {status}",
                                                          type_=type_), delay_s=delay_s))

    def reply_raw(self, status: int, raw: bytes, content_type: str = "text/plain") -> FakeAnthropic:
        return self.reply(FakeResponse(status=status, raw=raw, headers={"Content-Type": content_type}))

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
        if not request.api_key:
            return FakeResponse(401, error_body(401, "x-api-key header is required"))
        if request.api_key != self.api_key:
            return FakeResponse(401, error_body(401, "invalid x-api-key"))
        if request.method != "POST" or request.path != "/v1/messages":
            return FakeResponse(404, error_body(404, f"Not found: {request.method} {request.path}"))
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        if queued is None and self.handler is not None:
            queued = self.handler
        if callable(queued):
            queued = queued(request)
        if queued is None:
            return FakeResponse(500, error_body(500, f"FakeAnthropic: no response configured for {request.path}"))
        return queued

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        request = self._record(http)
        response = self._answer(request)
        if response.delay_s:
            time.sleep(response.delay_s)
        headers = {"Content-Type": "application/json", "request-id": "req_fake", **response.headers}
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
