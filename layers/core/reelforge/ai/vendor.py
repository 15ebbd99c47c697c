"""What the OpenAI, Anthropic, Runway and Veo clients share, so each stays a thin adapter.

- ``TaskState``: one shape for a long-running generation (a Runway task, a Veo operation),
  polled by a Step Functions Wait loop rather than by a sleeping Lambda;
- image bytes to the MIME type and data URL the vendors want (sniffed, not trusted);
- scrubbing the key out of whatever a vendor or an HTTP library says;
- validating a JSON answer against a pydantic model with a short, model-readable reason,
  which the corrective retry sends back (``retry_note``);
- the named errors for what the ``openai`` and ``anthropic`` SDKs raise (``sdk_errors``,
  ``status_error``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from reelforge.ai.genai_client import validation_problems
from reelforge.errors import InvalidMediaError, ProviderError, TransientError

M = TypeVar("M", bound=BaseModel)

TaskStatus = Literal["pending", "running", "succeeded", "failed"]

# How many characters of a vendor's own message an error keeps (they can echo whole prompts).
MESSAGE_LIMIT = 300
RETRY_HINT = "Answer again with only JSON that matches the schema exactly."


class TaskState(BaseModel):
    """Where a long-running generation stands. ``video_url`` is the vendor's (short-lived)
    output URL; a vendor that answers with the bytes themselves (Veo on Vertex AI without an
    output bucket) fills ``video_bytes``, which never goes into a state machine's payload."""

    status: TaskStatus
    video_url: str | None = None
    error: str | None = None
    video_bytes: bytes | None = Field(default=None, exclude=True, repr=False)
    mime_type: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("succeeded", "failed")


_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_mime(data: bytes) -> str:
    """The MIME type of PNG, JPEG, GIF or WebP bytes; every vendor here takes those four."""
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidMediaError("the image is not PNG, JPEG, GIF or WebP")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_url(data: bytes) -> str:
    return f"data:{image_mime(data)};base64,{b64(data)}"


# A vendor that echoes a rejected key masks most of it ("sk-abc1****wxyz"): drop those too.
_MASKED = re.compile(r"\S*\*{3,}\S*")


def scrub(text: str, api_key: str) -> str:
    """``text`` without the key, masked or not, on one line and cut to MESSAGE_LIMIT."""
    if api_key:
        text = text.replace(api_key, "[redacted]")
    text = " ".join(_MASKED.sub("[redacted]", text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def error_message(body: object, fallback: str) -> str:
    """The human part of a vendor's JSON error body: ``{"error": {"message": ...}}`` (OpenAI,
    Anthropic), ``{"error": "..."}`` (Runway) or the inner ``{"message": ...}``."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, str):
            return error
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return fallback


def error_code(body: object) -> str:
    """``error.code`` or else ``error.type`` of a JSON error body, lower case ("" if none).
    (The openai SDK hands over the ``error`` object itself, the others the whole body.)"""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("code") or error.get("type") or "").lower()
    return ""


def parse_json_model(schema: type[M], text: str | None) -> M:
    """Validate a JSON text as ``schema``; ValueError with a short reason the model can act on."""
    if not text or not text.strip():
        raise ValueError("the answer was empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    return validate_model(schema, data)


def validate_model(schema: type[M], data: Any) -> M:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"does not match the schema ({validation_problems(exc)})") from None


def retry_note(problem: str) -> str:
    """What the corrective retry tells the model about its previous answer."""
    return f"Your previous answer was not valid: {problem}. {RETRY_HINT}"


def unusable(vendor: str, model: str, problem: str) -> ProviderError:
    return ProviderError(f"{vendor} ({model}) returned unusable JSON twice: {problem}")


def require_key(api_key: str | None, vendor: str, header: str) -> str:
    api_key = (api_key or "").strip()
    if not api_key:
        raise ProviderError(f"{vendor} provider needs an API key ({header} header)")
    return api_key


@contextlib.contextmanager
def sdk_errors(
    sdk: ModuleType,
    base: type[Exception],
    vendor: str,
    api_key: str,
    timeout_s: float,
    mapped: Callable[[int, object], Exception],
) -> Iterator[None]:
    """What a Stainless-generated SDK (``openai``, ``anthropic``: the same error classes by
    the same names, under the SDK's own ``base``) raises, as the named errors the state
    machine matches: a timeout or a connection failure is ``TransientError``, an HTTP error
    status what ``mapped(status, body)`` makes of it, any other SDK error ``ProviderError``;
    the key is scrubbed out of each."""
    try:
        yield
    except sdk.APITimeoutError:
        raise TransientError(f"{vendor} did not answer within {timeout_s:g} s") from None
    except sdk.APIConnectionError as exc:
        cause = exc.__cause__ or exc
        raise TransientError(
            f"could not reach {vendor}: {scrub(type(cause).__name__ + ': ' + str(cause), api_key)}"
        ) from None
    except sdk.APIStatusError as exc:
        raise mapped(exc.status_code, exc.body) from None
    except base as exc:
        raise ProviderError(f"{vendor} client error: {scrub(str(exc), api_key)}") from None


def status_error(vendor: str, model: str, status: int, label: str, message: str) -> Exception:
    """The named error for a model vendor's HTTP error ``status`` (``label``: the status and
    the vendor's error code; ``message``: its words, scrubbed): timeouts, conflicts,
    throttling and 5xx are ``TransientError``, a rejected key, an unknown model or request
    ``ProviderError``."""
    if status in (408, 409, 429) or status >= 500:  # Anthropic's 529 is "overloaded_error"
        return TransientError(f"{vendor} is unavailable or throttling ({label}): {message}")
    if status in (401, 403):
        return ProviderError(
            f"{vendor} rejected the API key ({label}): check the x-api-key header. "
            f"{vendor} said: {message}"
        )
    if status == 404:
        return ProviderError(f"{vendor} model {model!r} was not found ({label}): {message}")
    return ProviderError(f"{vendor} rejected the request ({label}): {message}")
