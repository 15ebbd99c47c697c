"""The official ``anthropic`` SDK behind the shared provider rules (see ``genai_client``).

- structured output as a forced tool call: one tool whose ``input_schema`` is the pydantic
  model's JSON schema, ``tool_choice`` naming it, so the answer arrives as the tool's input;
  an input that does not validate goes back as an ``is_error`` tool result (how Claude is
  told a call was wrong), exactly once;
- images as base64 ``image`` blocks ahead of the text;
- the SDK's retries are off (``max_retries=0``) and its OpenTelemetry spans too (prompts
  and keys stay out of traces); throttling, overload (529), 5xx, timeouts and connection
  failures are ``TransientError``, a rejected key or request ``ProviderError``, a refusal
  (``stop_reason`` "refusal") ``UnsupportedPromptError``; no message or repr carries the key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, TypeVar

import anthropic
from pydantic import BaseModel

from reelforge.ai.vendor import (
    RETRY_HINT,
    b64,
    error_code,
    error_message,
    image_mime,
    require_key,
    retry_note,
    scrub,
    sdk_errors,
    status_error,
    unusable,
    validate_model,
)
from reelforge.errors import UnsupportedPromptError

M = TypeVar("M", bound=BaseModel)

DEFAULT_MODEL = "claude-sonnet-4-5"
TOOL_NAME = "answer"


class AnthropicClient:
    """One Claude model behind the shared rules; holds the key, never shows it."""

    vendor = "Anthropic"

    def __init__(
        self,
        api_key: str,
        *,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        max_tokens: int = 4096,
    ) -> None:
        self._api_key = require_key(api_key, self.vendor, "x-api-key")
        self.model = model
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.client = anthropic.Anthropic(
            api_key=self._api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0,
            open_telemetry=False,
        )

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"AnthropicClient(model={self.model!r})"

    def ask_json(
        self,
        system: str,
        user: str,
        schema: type[M],
        images: Sequence[bytes] = (),
    ) -> M:
        """One answer validated as ``schema``; ``images`` go along for vision. (The pinned SDK's
        messages.create takes no temperature: the model's default is used.)"""
        content: list[dict[str, Any]] = [
            {"type": "image", "source": {"type": "base64", "media_type": image_mime(image),
                                         "data": b64(image)}}
            for image in images
        ]
        content.append({"type": "text", "text": user})
        messages: list[dict[str, Any]] = [{"role": "user", "content": content}]
        tool = {
            "name": TOOL_NAME,
            "description": f"Give the answer as a {schema.__name__} object. {RETRY_HINT}",
            "input_schema": schema.model_json_schema(),
        }
        problem = ""
        for attempt in range(2):
            with self.named_errors():
                message = self.client.messages.create(
                    model=self.model, max_tokens=self.max_tokens, system=system,
                    messages=messages,  # type: ignore[arg-type]
                    tools=[tool],  # type: ignore[list-item]
                    tool_choice={"type": "tool", "name": TOOL_NAME},
                )
            if message.stop_reason == "refusal":
                raise UnsupportedPromptError(
                    f"Anthropic ({self.model}) declined the prompt (stop reason: refusal)"
                )
            call = next((b for b in message.content
                         if b.type == "tool_use" and b.name == TOOL_NAME), None)
            if call is None:
                problem = ("the answer was cut off at the token limit"
                           if message.stop_reason == "max_tokens"
                           else f"the answer did not call the {TOOL_NAME} tool")
            else:
                try:
                    return validate_model(schema, call.input)
                except ValueError as exc:
                    problem = str(exc)
            if attempt == 0:
                messages.append({"role": "assistant", "content": _replayed(message.content)})
                note = retry_note(problem)
                messages.append({"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": call.id, "is_error": True,
                     "content": note} if call is not None else {"type": "text", "text": note}
                ]})
        raise unusable(self.vendor, self.model, problem)

    # -- errors ----------------------------------------------------------------------------

    def named_errors(self) -> contextlib.AbstractContextManager[None]:
        """The SDK's errors as the named errors the state machine matches, without the key."""
        return sdk_errors(anthropic, anthropic.AnthropicError, self.vendor, self._api_key,
                          self.timeout_s, self.mapped)

    def mapped(self, status: int, body: object) -> Exception:
        """The named error the state machine matches, with the key scrubbed out."""
        message = scrub(error_message(body, f"HTTP {status}"), self._api_key)
        label = f"{status} {error_code(body)}".strip()
        return status_error(self.vendor, self.model, status, label, message)


def _replayed(blocks: Sequence[Any]) -> list[dict[str, Any]]:
    """The answer's text and tool_use blocks as request params, for the corrective turn."""
    replay: list[dict[str, Any]] = []
    for block in blocks:
        if block.type == "tool_use":
            replay.append({"type": "tool_use", "id": block.id, "name": block.name,
                           "input": block.input})
        elif block.type == "text" and block.text:
            replay.append({"type": "text", "text": block.text})
    return replay or [{"type": "text", "text": "(no answer)"}]
