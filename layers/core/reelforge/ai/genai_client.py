"""The google-genai plumbing every Gemini provider shares: client, error mapping, JSON retry.

Used by the moment (``reelforge.clips.moments.gemini``), region-edit and scoring providers, so none of
them grows its own copy:

- the client pins ``api_version`` v1beta (structured output is documented there) and keeps
  the SDK's own retries off, so they do not multiply with the state machine's ``Retry``;
- throttling, 5xx and timeouts are ``TransientError``, a rejected key or request is
  ``ProviderError``, and no message ever carries the API key;
- an answer that is not valid JSON for the schema gets exactly one corrective retry.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from importlib import import_module
from types import ModuleType
from typing import TypeVar

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, TypeAdapter, ValidationError

from reelforge.errors import ProviderError, TransientError, UnsupportedPromptError

# Structured output (responseSchema) is documented on v1beta; pin it rather than follow
# the SDK's default version, which has changed between SDK releases.
API_VERSION = "v1beta"
DEFAULT_MODEL = "gemini-2.5-flash"
MISSING_KEY = "Gemini provider needs an API key (X-Gemini-Key header or GEMINI_API_KEY)"

T = TypeVar("T")


def _http_libraries() -> list[ModuleType]:
    """The SDK sends through httpx or its fork httpx2, whichever it picks: catch both."""
    found: list[ModuleType] = []
    for name in ("httpx", "httpx2"):
        with contextlib.suppress(ImportError):
            found.append(import_module(name))
    return found


_HTTP = _http_libraries()
TIMEOUTS = tuple(lib.TimeoutException for lib in _HTTP)
TRANSPORT_ERRORS = tuple(lib.TransportError for lib in _HTTP)


class GenaiJsonClient:
    """One Gemini model behind the shared rules; holds the key, never shows it."""

    def __init__(
        self,
        api_key: str,
        *,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        api_key = (api_key or "").strip()
        if not api_key:
            raise ProviderError(MISSING_KEY)
        self._api_key = api_key
        self.model = model
        self.timeout_s = timeout_s
        options = types.HttpOptions(
            api_version=API_VERSION, timeout=int(timeout_s * 1000), base_url=base_url or None
        )
        self.client = genai.Client(api_key=api_key, http_options=options)

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"GenaiJsonClient(model={self.model!r})"

    def ask_json(
        self,
        contents: list[types.Content],
        *,
        config: types.GenerateContentConfig,
        parse: Callable[[str | None], T],
        retry_hint: str,
        what: str,
    ) -> T:
        """Call, validate with ``parse`` (ValueError = invalid), retry once with the problem.

        ``retry_hint`` tells the model what a valid answer looks like; ``what`` names the
        output in the final error ("unusable <what> twice").
        """
        contents = list(contents)
        text, value, problem = self._attempt(contents, config, parse)
        if problem is None:
            return value  # type: ignore[return-value]
        if text:
            contents.append(types.Content(role="model", parts=[types.Part(text=text)]))
        contents.append(user_text(f"Your previous answer was not valid: {problem}. {retry_hint}"))
        text, value, problem = self._attempt(contents, config, parse)
        if problem is not None:
            raise ProviderError(f"Gemini ({self.model}) returned unusable {what} twice: {problem}")
        return value  # type: ignore[return-value]

    def _attempt(
        self,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        parse: Callable[[str | None], T],
    ) -> tuple[str | None, T | None, str | None]:
        text, empty_reason = self.generate(contents, config)
        if empty_reason is not None:
            return text, None, f"the answer was empty ({empty_reason})"
        try:
            return text, parse(text), None
        except ValueError as exc:
            return text, None, str(exc)

    def generate(
        self, contents: list[types.Content], config: types.GenerateContentConfig
    ) -> tuple[str | None, str | None]:
        """The model's text, or None and why there is none (blocked, no candidates)."""
        with self.named_errors():
            response = self.client.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        text = response.text
        if text and text.strip():
            return text, None
        return None, empty_reason(response) or "no candidates"

    def check_model(self) -> None:
        """One cheap call (GET models/{model}) that fails as ``generate`` would for a rejected
        key, an unknown model or an unreachable API; no tokens are spent."""
        with self.named_errors():
            self.client.models.get(model=self.model)

    @contextlib.contextmanager
    def named_errors(self) -> Iterator[None]:
        try:
            yield
        except genai_errors.APIError as exc:
            raise self.mapped(exc) from None
        except TIMEOUTS:
            raise TransientError(f"Gemini did not answer within {self.timeout_s:g} s") from None
        except TRANSPORT_ERRORS as exc:
            raise TransientError(
                f"could not reach Gemini: {self.scrub(type(exc).__name__ + ': ' + str(exc))}"
            ) from None

    def mapped(self, exc: genai_errors.APIError) -> Exception:
        """The named error the state machine matches, with the key scrubbed out."""
        code = exc.code or 0
        status = exc.status or ""
        message = self.scrub(str(exc.message or "")).strip()
        label = f"{code} {status}".strip()
        if code in (408, 429) or code >= 500:
            return TransientError(f"Gemini is unavailable or throttling ({label}): {message}")
        if code in (401, 403) or "api key" in message.lower():
            return ProviderError(
                f"Gemini rejected the API key ({label}): check the X-Gemini-Key header or "
                f"GEMINI_API_KEY. Gemini said: {message}"
            )
        if code == 404:
            return ProviderError(f"Gemini model {self.model!r} was not found ({label}): {message}")
        return ProviderError(f"Gemini rejected the request ({label}): {message}")

    def scrub(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text


# Finish reasons that mean "Gemini will not write this", not "try again".
# (RECITATION is not one: it can come from quoting a source text, which a retry may avoid.)
REFUSALS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII"})


class _Refused(Exception):
    """Gemini declined the prompt itself (blocked or stopped for safety)."""


class WritingClient(GenaiJsonClient):
    """The shared client for the writers (narrated video, studio): a refusal is not retried
    (the same prompt would be refused again) and becomes an UnsupportedPromptError."""

    def generate(self, contents: list[types.Content],
                 config: types.GenerateContentConfig) -> tuple[str | None, str | None]:
        text, reason = super().generate(contents, config)
        if reason is not None and (reason.startswith("blocked")
                                   or reason.removeprefix("finish reason ") in REFUSALS):
            raise _Refused(reason)
        return text, reason

    def write(self, prompt: str, *, system: str, schema: type[BaseModel], temperature: float, topic: str,
              parse: Callable[[str | None], T], retry_hint: str, what: str,
              media: Sequence[types.Part] = ()) -> T:
        """One structured answer to `prompt` (validated by `parse`, one corrective retry);
        `media` (images, say) go ahead of the prompt, for a model that reads them."""
        config = types.GenerateContentConfig(system_instruction=system, response_mime_type="application/json",
                                             response_schema=schema, temperature=temperature)
        contents = [types.Content(role="user", parts=[*media, types.Part(text=prompt)])]
        try:
            return self.ask_json(contents, config=config, parse=parse, retry_hint=retry_hint, what=what)
        except _Refused as refused:
            topic = topic if len(topic) <= 80 else topic[:77] + "..."
            raise UnsupportedPromptError(
                f"Gemini ({self.model}) declined to write about {topic!r} ({refused}); rephrase the "
                "topic or the source text, or use the local provider") from None


def parse_json_as(adapter: TypeAdapter[T], text: str | None, *, unwrap: str | None = None) -> T:
    """Validate a JSON answer; raises ValueError with a short, model-readable reason.

    With ``unwrap``, an object whose ``unwrap`` key holds a list stands for that list (models
    sometimes wrap the array they were asked for).
    """
    if not text or not text.strip():
        raise ValueError("the answer was empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if unwrap and isinstance(data, dict) and isinstance(data.get(unwrap), list):
        data = data[unwrap]
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise ValueError(f"does not match the schema ({validation_problems(exc)})") from None


def validation_problems(exc: ValidationError, limit: int = 4) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
        for err in exc.errors()[:limit]
    )


def empty_reason(response: types.GenerateContentResponse) -> str | None:
    """Why an answer has nothing usable, as Gemini says it: blocked, or its finish reason."""
    feedback = response.prompt_feedback
    if feedback and feedback.block_reason:
        return f"blocked: {wire_name(feedback.block_reason)}"
    if response.candidates and response.candidates[0].finish_reason:
        return f"finish reason {wire_name(response.candidates[0].finish_reason)}"
    return None


def wire_name(value: object) -> str:
    """An SDK enum's wire name (SAFETY), whatever the Python version's enum formatting."""
    return str(getattr(value, "value", value))


def user_text(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])
