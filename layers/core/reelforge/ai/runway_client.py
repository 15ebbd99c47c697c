"""The official ``runwayml`` SDK behind the shared provider rules (see ``genai_client``).

Image-to-video is a task: ``start_image_to_video`` submits it and returns its id at once,
``poll`` reads it once. Nothing here waits (the SDK's ``wait_for_task_output`` sleeps in a
loop): the ``works`` state machine polls with Wait states, so no Lambda sleeps.

The SDK's retries are off (``max_retries=0``) so they do not multiply with the state
machine's ``Retry``; throttling, 5xx, timeouts and connection failures are
``TransientError``, a rejected key or request ``ProviderError``, a prompt or image that
Runway's moderation refuses ``UnsupportedPromptError``; no message or repr carries the key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import runwayml

from reelforge.ai.vendor import TaskState, data_url, error_message, require_key, scrub
from reelforge.errors import (
    InvalidMediaError,
    ProviderError,
    TransientError,
    UnsupportedPromptError,
)

DEFAULT_MODEL = "gen4_turbo"
# Runway takes a data URI of at most 5 MB; a larger image must go as an https URL.
MAX_DATA_URI = 5 * 1024 * 1024
# Aspect ratios as the rest of reelforge names them -> the resolutions Runway's gen4 takes.
RATIOS = {"16:9": "1280:720", "9:16": "720:1280", "4:3": "1104:832", "3:4": "832:1104",
          "1:1": "960:960", "21:9": "1584:672"}
_STATUS = {"PENDING": "pending", "THROTTLED": "pending", "RUNNING": "running",
           "SUCCEEDED": "succeeded", "FAILED": "failed", "CANCELLED": "failed"}


class RunwayClient:
    """Runway's image-to-video behind the shared rules; holds the key, never shows it."""

    vendor = "Runway"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._api_key = require_key(api_key, self.vendor, "x-video-api-key or x-api-key")
        self.model = model
        self.timeout_s = timeout_s
        self.client = runwayml.RunwayML(
            api_key=self._api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0
        )

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"RunwayClient(model={self.model!r})"

    def start_image_to_video(
        self, image: bytes | str, prompt: str, duration_s: float, ratio: str = "9:16"
    ) -> str:
        """Submit the task; its id. ``image`` is the first frame: bytes (sent as a data URI)
        or an https/``runway://`` URL that Runway fetches itself. ``ratio`` is an aspect
        ("9:16") or one of Runway's resolutions ("720:1280")."""
        prompt_image = self._prompt_image(image)
        with self.named_errors():
            task = self.client.image_to_video.create(
                model=self.model,  # type: ignore[arg-type]
                prompt_image=prompt_image,
                prompt_text=prompt,
                ratio=RATIOS.get(ratio, ratio),  # type: ignore[arg-type]
                duration=max(1, round(duration_s)),
            )
        if not getattr(task, "id", None):
            raise ProviderError(f"Runway ({self.model}) accepted the task but gave no task id")
        return task.id

    def poll(self, task_id: str) -> TaskState:
        """One look at the task. A failure for moderation raises UnsupportedPromptError (the
        same prompt would fail again); any other failure is a ``failed`` state saying why."""
        with self.named_errors():
            task: Any = self.client.tasks.retrieve(task_id)
        status = _STATUS.get(str(getattr(task, "status", "")).upper())
        if status is None:
            raise ProviderError(f"Runway task {task_id} has an unknown status {task.status!r}")
        if status == "succeeded":
            output = list(getattr(task, "output", None) or [])
            if not output:
                return TaskState(status="failed", error="Runway reported success without a video")
            return TaskState(status="succeeded", video_url=output[0], mime_type="video/mp4")
        if status == "failed":
            if task.status == "CANCELLED":
                return TaskState(status="failed", error="the Runway task was cancelled")
            code = getattr(task, "failure_code", None) or ""
            reason = scrub(getattr(task, "failure", "") or "no reason given", self._api_key)
            if code.upper().startswith("SAFETY"):
                raise UnsupportedPromptError(
                    f"Runway's moderation refused the scene ({code}): {reason}")
            return TaskState(status="failed", error=f"{reason} ({code})" if code else reason)
        return TaskState(status=status)  # type: ignore[arg-type]

    def _prompt_image(self, image: bytes | str) -> str:
        if isinstance(image, bytes):
            uri = data_url(image)
            if len(uri) > MAX_DATA_URI:
                raise InvalidMediaError(
                    "the scene image is over Runway's 5 MB limit for inline images; pass an https URL")
            return uri
        if image.startswith(("https://", "runway://", "data:image/")):
            return image
        raise InvalidMediaError("Runway takes the image as bytes, an https URL or a runway:// URI")

    # -- errors ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def named_errors(self) -> Iterator[None]:
        try:
            yield
        except runwayml.APITimeoutError:
            raise TransientError(f"Runway did not answer within {self.timeout_s:g} s") from None
        except runwayml.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise TransientError(
                f"could not reach Runway: {scrub(type(cause).__name__ + ': ' + str(cause), self._api_key)}"
            ) from None
        except runwayml.APIStatusError as exc:
            raise self.mapped(exc.status_code, exc.body) from None
        except runwayml.RunwayMLError as exc:
            raise ProviderError(f"Runway client error: {scrub(str(exc), self._api_key)}") from None

    def mapped(self, status: int, body: object) -> Exception:
        """The named error the state machine matches, with the key scrubbed out."""
        message = scrub(error_message(body, f"HTTP {status}"), self._api_key)
        if status in (408, 409, 429) or status >= 500:
            return TransientError(f"Runway is unavailable or throttling ({status}): {message}")
        if status in (401, 403):
            return ProviderError(
                f"Runway rejected the API key ({status}): check the x-video-api-key header. "
                f"Runway said: {message}")
        if status == 404:
            return ProviderError(f"Runway task or model not found ({status}): {message}")
        lowered = message.lower()
        if any(word in lowered for word in ("moderation", "safety", "content policy")):
            return UnsupportedPromptError(f"Runway's moderation refused the request ({status}): {message}")
        return ProviderError(f"Runway rejected the request ({status}): {message}")
