"""A fake Gemini HTTP server on loopback, for driving the real google-genai SDK in tests.

The SDK is pointed at it with ``HttpOptions(base_url=fake.base_url)``; nothing in the SDK
is mocked, so the tests exercise its URL building, headers, request encoding and error
mapping. It speaks the Gemini Developer API shape:

    POST /{version}/models/{model}:generateContent        -> GenerateContentResponse JSON
                                                              (text, or inline audio/image data)
    POST /{version}/models/{model}:streamGenerateContent   -> the same, as one SSE event
    POST /{version}/models/{model}:predict                 -> Imagen's PredictResponse
                                                              (``reply_image`` answers either)
    GET  /{version}/models/{model}                         -> the Model resource (404 if
                                                              ``models`` is set and lacks it)

Responses come from a FIFO queue (``reply_text``, ``reply_json``, ``reply_error``...) and,
when it is empty, from ``handler`` (a callback taking the ``RecordedRequest``), so the
same fake serves moment selection, script writing or vision scoring tests. Every request
is recorded, including the ones answered with an error.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_PATH = re.compile(
    r"^/(?P<version>[^/]+)/models/(?P<model>[^/:]+)(?::(?P<action>[A-Za-z]+))?$"
)

# Status names and messages as the real API words them (google.rpc.Code).
_STATUS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission."),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


@dataclass
class RecordedRequest:
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    method: str
    path: str
    version: str | None
    model: str | None
    action: str | None
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes

    @property
    def api_key(self) -> str | None:
        return self.headers.get("x-goog-api-key")

    @property
    def generation_config(self) -> dict[str, Any]:
        return (self.body or {}).get("generationConfig", {}) if isinstance(self.body, dict) else {}

    @property
    def prompt_text(self) -> str:
        """All text parts of ``contents`` (and the system instruction), joined: handy for asserts."""
        if not isinstance(self.body, dict):
            return ""
        texts: list[str] = []
        system = self.body.get("systemInstruction") or {}
        texts += [p.get("text", "") for p in system.get("parts", [])]
        for content in self.body.get("contents", []):
            texts += [p.get("text", "") for p in content.get("parts", [])]
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


def generate_content_body(
    text: str | None, *, model: str = "gemini-2.5-flash", finish_reason: str = "STOP"
) -> dict[str, Any]:
    """A GenerateContentResponse whose first candidate holds ``text`` (no candidate if None)."""
    body: dict[str, Any] = {
        "usageMetadata": {
            "promptTokenCount": 100,
            "candidatesTokenCount": 50,
            "totalTokenCount": 150,
        },
        "modelVersion": model,
        "responseId": "fake-response",
    }
    if text is None:
        body["candidates"] = []
        body["promptFeedback"] = {"blockReason": "SAFETY"}
    else:
        body["candidates"] = [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": finish_reason,
                "index": 0,
            }
        ]
    return body


def inline_data_body(
    data: bytes, mime: str, *, model: str = "gemini-2.5-flash", finish_reason: str = "STOP"
) -> dict[str, Any]:
    """A GenerateContentResponse whose first candidate holds one inline blob (TTS audio, an image)."""
    body = generate_content_body("", model=model, finish_reason=finish_reason)
    body["candidates"][0]["content"]["parts"] = [
        {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode("ascii")}}
    ]
    return body


def predict_image_body(data: bytes, mime: str = "image/png") -> dict[str, Any]:
    """Imagen's ``:predict`` answer with one generated image."""
    return {"predictions": [
        {"bytesBase64Encoded": base64.b64encode(data).decode("ascii"), "mimeType": mime}
    ]}


def error_body(
    status: int, message: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """A google.rpc.Status error body, as the API sends with 4xx/5xx."""
    name, default = _STATUS.get(status, ("UNKNOWN", "Unknown error."))
    error: dict[str, Any] = {"code": status, "message": message or default, "status": name}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return {"error": error}


class FakeGemini:
    """Threaded loopback server; use as a context manager (``with FakeGemini() as fake``)."""

    def __init__(
        self,
        api_key: str = "fake-gemini-key",
        *,
        handler: Handler | None = None,
        models: set[str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.handler = handler
        self.models = models  # the models GET models/{model} knows; None: any
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse | Handler] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGemini:
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
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown between tests
            name="fake-gemini",
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

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeGemini is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- configuring answers ---------------------------------------------------------------

    def reply(self, response: FakeResponse | Handler) -> FakeGemini:
        """Queue one answer (a response, or a callback for just the next request)."""
        with self._lock:
            self._queue.append(response)
        return self

    def reply_text(self, text: str | None, *, finish_reason: str = "STOP") -> FakeGemini:
        """Queue a 200 whose first candidate's text is ``text`` (None: blocked, no candidate)."""
        return self.reply(
            FakeResponse(body=generate_content_body(text, finish_reason=finish_reason))
        )

    def reply_json(self, value: Any) -> FakeGemini:
        """Queue a 200 whose text part is ``value`` serialised as JSON (structured output)."""
        return self.reply_text(json.dumps(value))

    def reply_audio(
        self, pcm: bytes, mime: str = "audio/L16;codec=pcm;rate=24000"
    ) -> FakeGemini:
        """Queue a TTS answer: ``pcm`` (raw 16-bit mono samples) as the candidate's inline data."""
        return self.reply(FakeResponse(body=inline_data_body(pcm, mime)))

    def reply_image(self, image: bytes, mime: str = "image/png") -> FakeGemini:
        """Queue one generated image, shaped for the request that takes it: inline data for a
        Gemini image model's ``:generateContent``, ``predictions`` for Imagen's ``:predict``."""

        def answer(request: RecordedRequest) -> FakeResponse:
            if request.action == "predict":
                return FakeResponse(body=predict_image_body(image, mime))
            return FakeResponse(body=inline_data_body(image, mime, model=request.model or ""))

        return self.reply(answer)

    def reply_error(
        self,
        status: int,
        message: str | None = None,
        *,
        reason: str | None = None,
        delay_s: float = 0.0,
    ) -> FakeGemini:
        return self.reply(
            FakeResponse(status=status, body=error_body(status, message, reason), delay_s=delay_s)
        )

    def reply_raw(self, status: int, raw: bytes, content_type: str = "text/plain") -> FakeGemini:
        """Queue a body that is not JSON (a proxy's HTML error page, a truncated reply)."""
        return self.reply(
            FakeResponse(status=status, raw=raw, headers={"Content-Type": content_type})
        )

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
        match = _PATH.match(parts.path)
        request = RecordedRequest(
            method=http.command,
            path=parts.path,
            version=match["version"] if match else None,
            model=match["model"] if match else None,
            action=match["action"] if match else None,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
            raw_body=raw,
        )
        with self._lock:
            self.requests.append(request)
        return request

    def _answer(self, request: RecordedRequest) -> FakeResponse:
        # Auth first, like the real API: a missing key is 403, a wrong one 400 API_KEY_INVALID.
        if not request.api_key:
            return FakeResponse(
                403,
                error_body(
                    403, "Method doesn't allow unregistered callers.", "API_KEY_SERVICE_BLOCKED"
                ),
            )
        if request.api_key != self.api_key:
            return FakeResponse(
                400,
                error_body(
                    400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
                ),
            )
        if request.model is None:
            return FakeResponse(404, error_body(404, f"no route for {request.path} in FakeGemini"))
        if request.method == "GET" and request.action is None:
            return self._model_resource(request)
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        if queued is None and self.handler is not None:
            queued = self.handler
        if callable(queued):
            queued = queued(request)
        if queued is None:
            return FakeResponse(
                500, error_body(500, f"FakeGemini: no response configured for {request.path}")
            )
        return queued

    def _model_resource(self, request: RecordedRequest) -> FakeResponse:
        model = request.model or ""
        if self.models is not None and model not in self.models:
            message = f"models/{model} is not found for API version {request.version}"
            return FakeResponse(404, error_body(404, message))
        return FakeResponse(body={
            "name": f"models/{model}", "displayName": model, "version": "001",
            "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
        })

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        request = self._record(http)
        response = self._answer(request)
        if response.delay_s:
            time.sleep(response.delay_s)
        headers = {"Content-Type": "application/json; charset=UTF-8", **response.headers}
        if response.raw is not None:
            payload = response.raw
        elif request.action == "streamGenerateContent" and response.status == 200:
            headers["Content-Type"] = "text/event-stream"
            payload = f"data: {json.dumps(response.body)}\r\n\r\n".encode()
        else:
            payload = json.dumps(response.body if response.body is not None else {}).encode()
        try:
            http.send_response(response.status)
            for name, value in headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(payload)))
            http.end_headers()
            http.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer
