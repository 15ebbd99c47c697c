"""Veo video generation through google-genai, as a long-running operation that is started
once and polled once per call (a Step Functions Wait loop polls; no Lambda sleeps).

google-genai 3.4 sends ``models.generate_videos`` (and Imagen's ``generate_images``) only
in Vertex AI mode: with a Gemini Developer API key the SDK refuses before any request
("only supported in Gemini Enterprise Agent Platform mode"). Vertex AI's express mode takes
an API key, so this client is ``genai.Client(vertexai=True, api_key=...)``: the key must be
a Vertex AI (Google Cloud) API key, not an AI Studio one. Requests go to
``publishers/google/models/{model}:predictLongRunning`` and ``...:fetchPredictOperation``.

Same rules as ``genai_client``: no SDK retries (google-genai retries only when given
``retry_options``), throttling/5xx/timeouts/connection errors are ``TransientError``, a
rejected key or request ``ProviderError``, a prompt or image that Veo's safety filters
refuse ``UnsupportedPromptError``; no message or repr carries the key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from reelforge.ai.genai_client import TIMEOUTS, TRANSPORT_ERRORS
from reelforge.ai.vendor import TaskState, image_mime, require_key, scrub
from reelforge.errors import ProviderError, TransientError, UnsupportedPromptError

# Vertex AI's version for Veo; pinned rather than following the SDK (or GOOGLE_GENAI_API_VERSION).
API_VERSION = "v1beta1"
DEFAULT_MODEL = "veo-3.0-generate-001"
# Words Vertex AI uses when its Responsible AI filters stop a generation.
_SAFETY_WORDS = ("safety", "responsible ai", "usage guidelines", "prohibited", "blocked",
                 "sensitive", "filtered")
# google.rpc.Code values worth another try of the whole operation.
_RETRYABLE_RPC = {4: "DEADLINE_EXCEEDED", 8: "RESOURCE_EXHAUSTED", 13: "INTERNAL", 14: "UNAVAILABLE"}


class VeoClient:
    """One Veo model on Vertex AI express mode; holds the key, never shows it."""

    vendor = "Veo"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._api_key = require_key(api_key, "Veo (Vertex AI)", "x-video-api-key or x-api-key")
        self.model = model
        self.timeout_s = timeout_s
        options = types.HttpOptions(
            api_version=API_VERSION, timeout=int(timeout_s * 1000), base_url=base_url or None
        )
        self.client = genai.Client(vertexai=True, api_key=self._api_key, http_options=options)

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"VeoClient(model={self.model!r})"

    def start_video(
        self, prompt: str, image: bytes | None = None, duration_s: float = 8, aspect: str = "9:16"
    ) -> str:
        """Start the operation; its name, which ``poll`` takes. ``image`` is the first frame."""
        source = types.GenerateVideosSource(
            prompt=prompt,
            image=types.Image(image_bytes=image, mime_type=image_mime(image)) if image else None,
        )
        config = types.GenerateVideosConfig(
            number_of_videos=1, duration_seconds=max(1, round(duration_s)), aspect_ratio=aspect
        )
        with self.named_errors():
            operation = self.client.models.generate_videos(
                model=self.model, source=source, config=config
            )
        if not operation.name:
            raise ProviderError(f"Veo ({self.model}) started no operation (no name in the answer)")
        return operation.name

    def poll(self, name: str) -> TaskState:
        """One look at the operation. A generation its safety filters stopped raises
        UnsupportedPromptError; any other failure is a ``failed`` state saying why."""
        with self.named_errors():
            operation = self.client.operations.get(types.GenerateVideosOperation(name=name))
        if not operation.done:
            return TaskState(status="running")
        if operation.error:
            return self._failed(operation.error)
        result = operation.result or operation.response
        videos = [g.video for g in (result.generated_videos or []) if g.video] if result else []
        if not videos:
            if result and (result.rai_media_filtered_count or result.rai_media_filtered_reasons):
                reasons = "; ".join(result.rai_media_filtered_reasons or []) or "no reason given"
                raise UnsupportedPromptError(
                    f"Veo ({self.model}) filtered the video for safety: {scrub(reasons, self._api_key)}")
            return TaskState(status="failed", error="Veo finished without a video")
        video = videos[0]
        if not video.uri and not video.video_bytes:
            return TaskState(status="failed", error="Veo's video has neither a URI nor bytes")
        return TaskState(status="succeeded", video_url=video.uri or None,
                         video_bytes=video.video_bytes or None,
                         mime_type=video.mime_type or "video/mp4")

    def _failed(self, error: dict[str, Any]) -> TaskState:
        code = error.get("code")
        message = scrub(str(error.get("message") or "no reason given"), self._api_key)
        if any(word in message.lower() for word in _SAFETY_WORDS):
            raise UnsupportedPromptError(f"Veo ({self.model}) refused the scene: {message}")
        label = _RETRYABLE_RPC.get(code, "") if isinstance(code, int) else ""
        note = f" ({label}: worth starting again)" if label else f" (code {code})" if code else ""
        return TaskState(status="failed", error=f"{message}{note}")

    # -- errors ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def named_errors(self) -> Iterator[None]:
        try:
            yield
        except genai_errors.APIError as exc:
            raise self.mapped(exc) from None
        except TIMEOUTS:
            raise TransientError(f"Veo did not answer within {self.timeout_s:g} s") from None
        except TRANSPORT_ERRORS as exc:
            raise TransientError(
                f"could not reach Vertex AI: {scrub(type(exc).__name__ + ': ' + str(exc), self._api_key)}"
            ) from None
        except ValueError as exc:  # the SDK refusing a request before sending it
            raise ProviderError(f"Veo request not sent: {scrub(str(exc), self._api_key)}") from None

    def mapped(self, exc: genai_errors.APIError) -> Exception:
        """The named error the state machine matches, with the key scrubbed out."""
        code = exc.code or 0
        message = scrub(str(exc.message or ""), self._api_key)
        label = f"{code} {exc.status or ''}".strip()
        if code in (408, 429) or code >= 500:
            return TransientError(f"Vertex AI is unavailable or throttling ({label}): {message}")
        if code in (401, 403) or "api key" in message.lower():
            return ProviderError(
                f"Vertex AI rejected the API key ({label}): Veo needs a Vertex AI API key in "
                f"x-video-api-key or x-api-key. Vertex AI said: {message}")
        if code == 404:
            return ProviderError(f"Veo model {self.model!r} or operation not found ({label}): {message}")
        if code == 400 and any(word in message.lower() for word in _SAFETY_WORDS):
            return UnsupportedPromptError(f"Veo ({self.model}) refused the prompt ({label}): {message}")
        return ProviderError(f"Vertex AI rejected the request ({label}): {message}")
