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
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes.http_fake import FakeResponse, Recorded, RecordingServer, message_texts

ROUTES = {"/v1/chat/completions": "chat", "/v1/images/generations": "images"}

# error.type as OpenAI words it per status.
_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
          404: "invalid_request_error", 429: "rate_limit_error", 500: "server_error",
          503: "server_error"}


@dataclass
class RecordedRequest(Recorded):
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    route: str | None  # "chat", "images" or None

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
        return "\n".join(t for t in message_texts(self.messages) if t)


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


class FakeOpenAI(RecordingServer[RecordedRequest]):
    """Threaded loopback server; use as a context manager (``with FakeOpenAI() as fake``)."""

    vendor = "OpenAI"
    request_type = RecordedRequest
    base_path = "/v1"
    reply_headers = {"Content-Type": "application/json", "x-request-id": "req_fake"}

    def __init__(self, api_key: str = "sk-fake-openai-key-0123456789", *,
                 handler: Handler | None = None) -> None:
        super().__init__(api_key, handler=handler)

    # -- configuring answers ---------------------------------------------------------------

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

    # -- serving ---------------------------------------------------------------------------

    def _path_fields(self, path: str) -> dict[str, Any]:
        return {"route": ROUTES.get(path)}

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
        queued = self._next_reply(request)
        if queued is None:
            return FakeResponse(500, error_body(500, f"FakeOpenAI: no response configured for {request.path}"))
        return queued
