"""The official ``openai`` SDK behind the shared provider rules (see ``genai_client``).

- structured output through Chat Completions with a strict ``json_schema`` response format
  (the schema is the pydantic model's, made strict the way the SDK's own ``.parse()`` does),
  images as ``image_url`` parts holding data URLs; the answer is validated here, and an
  invalid one gets exactly one corrective retry;
- images through the Images API as ``b64_json``, so no output URL has to be fetched;
- the SDK's retries are off (``max_retries=0``) so they do not multiply with the state
  machine's ``Retry``; throttling, 5xx, timeouts and connection failures are
  ``TransientError``, a rejected key or request ``ProviderError``, a refusal or a content
  policy block ``UnsupportedPromptError``; no message or repr carries the key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Sequence
from typing import Any, TypeVar

import openai
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel

from reelforge.ai.vendor import (
    data_url,
    error_code,
    error_message,
    parse_json_model,
    require_key,
    retry_note,
    scrub,
    sdk_errors,
    status_error,
    unusable,
)
from reelforge.errors import ProviderError, UnsupportedPromptError

M = TypeVar("M", bound=BaseModel)

DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_IMAGE_MODEL = "gpt-image-1"
# Error codes OpenAI uses for "this prompt is not allowed" (chat and the Images API).
POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked", "content_filter"})


class OpenAIClient:
    """One OpenAI model (chat or image) behind the shared rules; holds the key, never shows it."""

    vendor = "OpenAI"

    def __init__(
        self,
        api_key: str,
        *,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self._api_key = require_key(api_key, self.vendor, "x-api-key")
        self.model = model
        self.timeout_s = timeout_s
        self.client = openai.OpenAI(
            api_key=self._api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0
        )

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"OpenAIClient(model={self.model!r})"

    # -- structured output -----------------------------------------------------------------

    def ask_json(
        self,
        system: str,
        user: str,
        schema: type[M],
        images: Sequence[bytes] = (),
        *,
        temperature: float | None = None,
    ) -> M:
        """One answer validated as ``schema``; ``images`` go along for vision."""
        content: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": data_url(image)}} for image in images
        ]
        content.append({"type": "text", "text": user})
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": content},
        ]
        # to_strict_json_schema is the converter the SDK's own .parse() uses (private: the lock
        # pins the SDK, and the tests send its output through the fake).
        response_format = {
            "type": "json_schema",
            "json_schema": {
                "name": schema.__name__,
                "schema": to_strict_json_schema(schema),
                "strict": True,
            },
        }
        problem = ""
        for attempt in range(2):
            text, problem = self._attempt(messages, response_format, temperature)
            if not problem:
                try:
                    return parse_json_model(schema, text)
                except ValueError as exc:
                    problem = str(exc)
            if attempt == 0:
                if text:
                    messages.append({"role": "assistant", "content": text})
                messages.append({"role": "user", "content": retry_note(problem)})
        raise unusable(self.vendor, self.model, problem)

    def _attempt(
        self, messages: list[dict[str, Any]], response_format: dict[str, Any],
        temperature: float | None,
    ) -> tuple[str | None, str]:
        """The answer's text and "" or, for an answer that cannot be used, why."""
        extra: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
        with self.named_errors():
            completion = self.client.chat.completions.create(
                model=self.model, messages=messages, response_format=response_format,  # type: ignore[arg-type]
                **extra,
            )
        if not completion.choices:
            return None, "the answer had no choices"
        choice = completion.choices[0]
        if choice.message.refusal:
            raise UnsupportedPromptError(
                f"OpenAI ({self.model}) declined the prompt: {scrub(choice.message.refusal, self._api_key)}"
            )
        if choice.finish_reason == "content_filter":
            raise UnsupportedPromptError(
                f"OpenAI ({self.model}) stopped the answer for its content policy"
            )
        text = choice.message.content
        if choice.finish_reason == "length":
            return text, "the answer was cut off at the token limit"
        return text, ""

    # -- images ----------------------------------------------------------------------------

    def image(self, prompt: str, size: str = "1024x1024") -> bytes:
        """One generated image's bytes. dall-e models are asked for ``b64_json``; GPT image
        models always answer that way and reject the parameter."""
        extra: dict[str, Any] = {}
        if self.model.startswith("dall-e"):
            extra["response_format"] = "b64_json"
        with self.named_errors():
            result = self.client.images.generate(
                model=self.model, prompt=prompt, size=size, n=1, **extra
            )
        encoded = result.data[0].b64_json if result.data else None
        if not encoded:
            raise ProviderError(f"OpenAI ({self.model}) returned no image data")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ProviderError(f"OpenAI ({self.model}) returned image data that is not base64") from None

    # -- errors ----------------------------------------------------------------------------

    def named_errors(self) -> contextlib.AbstractContextManager[None]:
        """The SDK's errors as the named errors the state machine matches, without the key."""
        return sdk_errors(openai, openai.OpenAIError, self.vendor, self._api_key, self.timeout_s,
                          self.mapped)

    def mapped(self, status: int, body: object) -> Exception:
        """The named error the state machine matches, with the key scrubbed out."""
        message = scrub(error_message(body, f"HTTP {status}"), self._api_key)
        code = error_code(body)
        label = f"{status} {code}".strip()
        if code in POLICY_CODES:
            return UnsupportedPromptError(
                f"OpenAI ({self.model}) refused the prompt under its content policy ({label}): {message}"
            )
        if status == 429 and code == "insufficient_quota":  # billing, not throttling
            return ProviderError(f"OpenAI account is out of quota ({label}): {message}")
        return status_error(self.vendor, self.model, status, label, message)
