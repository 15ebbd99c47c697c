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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes.http_fake import FakeResponse, Recorded, RecordingServer, message_texts

# error.type as Anthropic words it per status.
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
          500: "api_error", 529: "overloaded_error"}


@dataclass
class RecordedRequest(Recorded):
    """One request as the fake saw it; ``body`` is the decoded JSON (None if not JSON)."""

    @property
    def api_key(self) -> str | None:
        """The key, from whichever header carried it (``x-api-key`` or a Bearer token)."""
        if self.headers.get("x-api-key"):
            return self.headers["x-api-key"]
        return super().api_key

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
        texts += message_texts(self.messages)
        return "\n".join(t for t in texts if t)


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


class FakeAnthropic(RecordingServer[RecordedRequest]):
    """Threaded loopback server; use as a context manager (``with FakeAnthropic() as fake``)."""

    vendor = "Anthropic"
    request_type = RecordedRequest
    reply_headers = {"Content-Type": "application/json", "request-id": "req_fake"}

    def __init__(self, api_key: str = "sk-ant-fake-anthropic-key-0123456789", *,
                 handler: Handler | None = None) -> None:
        super().__init__(api_key, handler=handler)

    # -- configuring answers ---------------------------------------------------------------

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

    # -- serving ---------------------------------------------------------------------------

    def _answer(self, request: RecordedRequest) -> FakeResponse:
        if not request.api_key:
            return FakeResponse(401, error_body(401, "x-api-key header is required"))
        if request.api_key != self.api_key:
            return FakeResponse(401, error_body(401, "invalid x-api-key"))
        if request.method != "POST" or request.path != "/v1/messages":
            return FakeResponse(404, error_body(404, f"Not found: {request.method} {request.path}"))
        queued = self._next_reply(request)
        if queued is None:
            return FakeResponse(500, error_body(500, f"FakeAnthropic: no response configured for {request.path}"))
        return queued
