"""A fake OpenAI HTTP server on loopback, for driving the real ``openai`` SDK in tests.

The SDK is pointed at it with ``OpenAI(base_url=fake.base_url)`` (which ends in ``/v1``, as
the real one does); nothing in the SDK is mocked. It speaks the shapes OpenAI documents:

    POST /v1/chat/completions     -> a ChatCompletion (text, a refusal, a finish reason)
    POST /v1/images/generations   -> an ImagesResponse with ``b64_json``

Auth first, like the real API: no ``Authorization: Bearer`` is 401 ``missing_api_key``, a
wrong key 401 ``invalid_api_key`` (whose message echoes the key masked, as OpenAI's does).
Answers come from a FIFO queue (``reply_json``, ``reply_refusal``, ``reply_error``...) and,
when it is empty, from ``handler``; every request is recorded, the refused ones too.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROUTES = {"/v1/chat/completions": "chat", "/v1/images/generations": "images"}

# error.type as OpenAI words it per status.
_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
          404: "invalid_request_error", 429: "rate_limit_error", 500: "server_error",
          503: "server_error"}


@dataclass
class RecordedRequest:
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    method: str
    path: str
    route: str | None  # "chat", "images" or None
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return (self.body or {}).get("messages", []) if isinstance(self.body, dict) else []

    @property
    def image_urls(self) -> list[str]:
        """The ``image_url`` parts of every message, in order (data URLs for inline images)."""
        return [part["image_url"]["url"] for message in self.messages
                if isinstance(message.get("content"), list)
                for part in message["content"] if part.get("type") == "image_url"]

    @property
    def prompt_text(self) -> str:
        texts: list[str] = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list):
                texts += [p.get("text", "") for p in content if p.get("type") == "text"]
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


def chat_completion_body(
    content: str | None, *, model: str = "gpt-4.1-mini", finish_reason: str = "stop",
    refusal: str | None = None,
) -> dict[str, Any]:
    """A ChatCompletion whose only choice holds ``content`` (or a ``refusal``)."""
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0, "finish_reason": finish_reason, "logprobs": None,
            "message": {"role": "assistant", "content": content, "refusal": refusal,
                        "annotations": []},
        }],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def images_body(image: bytes, *, revised_prompt: str | None = None) -> dict[str, Any]:
    return {"created": int(time.time()),
            "data": [{"b64_json": base64.b64encode(image).decode("ascii"),
                      "revised_prompt": revised_prompt}]}


def error_body(status: int, message: str, *, code: str | None = None,
               type_: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_ or _TYPES.get(status, "api_error"),
                      "param": param, "code": code}}


def _masked(key: str) -> str:
    return f"{key[:3]}{'*' * 12}{key[-4:]}" if len(key) > 8 else "*" * 8


class FakeOpenAI:
    """Threaded loopback server; use as a context manager (``with FakeOpenAI() as fake``)."""

    def __init__(self, api_key: str = "sk-fake-openai-key-0123456789", *,
                 handler: Handler | None = None) -> None:
        self.api_key = api_key
        self.handler = handler
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse | Handler] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
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
                                        kwargs={"poll_interval": 0.05}, name="fake-openai",
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

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    # -- configuring answers ---------------------------------------------------------------

    def reply(self, response: FakeResponse | Handler) -> FakeOpenAI:
        """Queue one answer (a response, or a callback for just the next request)."""
        with self._lock:
            self._queue.append(response)
        return self

    def reply_text(self, text: str | None, *, finish_reason: str = "stop") -> FakeOpenAI:
        return self.reply(FakeResponse(body=chat_completion_body(text, finish_reason=finish_reason)))

    def reply_json(self, value: Any) -> FakeOpenAI:
        """Queue a completion whose content is ``value`` as JSON (structured output)."""
        return self.reply_text(json.dumps(value))

    def reply_refusal(self, refusal: str = "I'm sorry, I can't help with that.") -> FakeOpenAI:
        """Queue the model's own refusal (``message.refusal``, no content)."""
        return self.reply(FakeResponse(body=chat_completion_body(None, refusal=refusal)))

    def reply_image(self, image: bytes, *, revised_prompt: str | None = None) -> FakeOpenAI:
        return self.reply(FakeResponse(body=images_body(image, revised_prompt=revised_prompt)))

    def reply_content_policy(self, message: str | None = None) -> FakeOpenAI:
        """Queue the Images API's 400 for a prompt its safety system rejects."""
        message = message or ("Your request was rejected as a result of our safety system. "
                              "Your prompt may contain text that is not allowed.")
        return self.reply_error(400, message, code="content_policy_violation",
                                type_="image_generation_user_error")

    def reply_rate_limit(self, retry_after_s: int = 1) -> FakeOpenAI:
        return self.reply(FakeResponse(
            429, error_body(429, "Rate limit reached for requests per min (RPM).",
                            code="rate_limit_exceeded"),
            headers={"retry-after": str(retry_after_s)}))

    def reply_error(self, status: int, message: str | None = None, *, code: str | None = None,
                    type_: str | None = None, delay_s: float = 0.0) -> FakeOpenAI:
        message = message or f"fake error {status}"
        return self.reply(FakeResponse(status, error_body(status, message, code=code, type_=type_),
                                       delay_s=delay_s))

    def reply_raw(self, status: int, raw: bytes, content_type: str = "text/plain") -> FakeOpenAI:
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
            method=http.command, path=parts.path, route=ROUTES.get(parts.path),
            query=parse_qs(parts.query), headers={k.lower(): v for k, v in http.headers.items()},
            body=body, raw_body=raw)
        with self._lock:
            self.requests.append(request)
        return request

    def _answer(self, request: RecordedRequest) -> FakeResponse:
        if not request.api_key:
            return FakeResponse(401, error_body(
                401, "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth.", code="missing_api_key"))
        if request.api_key != self.api_key:
            return FakeResponse(401, error_body(
                401, f"Incorrect API key provided: {_masked(request.api_key)}. You can find your "
                "API key at https://platform.openai.com/account/api-keys.", code="invalid_api_key"))
        if request.route is None or request.method != "POST":
            return FakeResponse(404, error_body(404, f"Invalid URL ({request.method} {request.path})"))
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        if queued is None and self.handler is not None:
            queued = self.handler
        if callable(queued):
            queued = queued(request)
        if queued is None:
            return FakeResponse(500, error_body(500, f"FakeOpenAI: no response configured for {request.path}"))
        return queued

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
