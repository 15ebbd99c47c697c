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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes.http_fake import FakeResponse, Recorded, RecordingServer

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
class RecordedRequest(Recorded):
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    version: str | None
    model: str | None
    action: str | None

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


class FakeGemini(RecordingServer[RecordedRequest]):
    """Threaded loopback server; use as a context manager (``with FakeGemini() as fake``)."""

    vendor = "Gemini"
    request_type = RecordedRequest
    reply_headers = {"Content-Type": "application/json; charset=UTF-8"}

    def __init__(
        self,
        api_key: str = "fake-gemini-key",
        *,
        handler: Handler | None = None,
        models: set[str] | None = None,
    ) -> None:
        super().__init__(api_key, handler=handler)
        self.models = models  # the models GET models/{model} knows; None: any

    # -- configuring answers ---------------------------------------------------------------

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

    # -- serving ---------------------------------------------------------------------------

    def _path_fields(self, path: str) -> dict[str, Any]:
        match = _PATH.match(path)
        return {
            "version": match["version"] if match else None,
            "model": match["model"] if match else None,
            "action": match["action"] if match else None,
        }

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
        queued = self._next_reply(request)
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

    def _payload(
        self, request: RecordedRequest, response: FakeResponse, headers: dict[str, str]
    ) -> bytes:
        if (response.raw is None and request.action == "streamGenerateContent"
                and response.status == 200):
            headers["Content-Type"] = "text/event-stream"
            return f"data: {json.dumps(response.body)}\r\n\r\n".encode()
        return super()._payload(request, response, headers)
