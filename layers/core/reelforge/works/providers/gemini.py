"""Google's models for every role of a work, through google-genai.

- vision and llm: a Gemini text model with structured output (``WritingClient``: a refusal is
  an UnsupportedPromptError, not retried); vision reads the reference's sampled frames
  (``stills``), not the video itself;
- image: ``gemini-2.5-flash-image`` through ``generate_content`` with a Gemini API key (as
  ``synth.images`` does), or an ``imagen-*`` model through ``generate_images``, which the SDK
  sends only to Vertex AI: express mode, a Vertex AI API key, the connection and error
  mapping of ``VeoClient``; either picture is fitted to the scene's size as PNG;
- video: Veo image-to-video (``VeoClient``), started once and polled by the state machine.
"""

from __future__ import annotations

from pathlib import Path

from google.genai import types

from reelforge.ai.genai_client import REFUSALS, GenaiJsonClient, WritingClient, empty_reason
from reelforge.ai.vendor import (
    RETRY_HINT,
    TaskState,
    image_mime,
    parse_json_model,
    require_key,
    scrub,
)
from reelforge.ai.veo_client import VeoClient
from reelforge.errors import ProviderError, UnsupportedPromptError
from reelforge.works.providers.base import Call, ImageJob, Picture, VideoJob, VideoStart
from reelforge.works.providers.prompts import (
    Ask,
    FrameVision,
    JsonWriter,
    M,
    Question,
    image_prompt,
    video_prompt,
)
from reelforge.works.providers.stills import fitted_png, nearest_shape

FLASH_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
IMAGEN_ASPECTS = ("1:1", "3:4", "4:3", "9:16", "16:9")
VEO_ASPECTS = ("16:9", "9:16")
# The clip lengths each Veo model makes; a scene gets the shortest one that covers it.
VEO_SECONDS = {"veo-2": (5, 6, 7, 8), "veo-3": (4, 6, 8)}
IMAGE_REFUSALS = REFUSALS | {"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"}


def vision(call: Call) -> FrameVision:
    return FrameVision(_ask(call), label=f"Gemini ({call.model})")


def writer(call: Call) -> JsonWriter:
    return JsonWriter(_ask(call))


def images(call: Call) -> FlashImages | ImagenImages:
    return ImagenImages(call) if call.model.startswith("imagen") else FlashImages(call)


def videos(call: Call) -> VeoVideos:
    return VeoVideos(call)


def _ask(call: Call) -> Ask:
    client = WritingClient(call.api_key or "", model=call.model, base_url=call.base_url)

    def ask(question: Question, schema: type[M]) -> M:
        media = [types.Part.from_bytes(data=image, mime_type=image_mime(image)) for image in question.images]
        return client.write(question.user, system=question.system, schema=schema,
                            temperature=question.temperature, topic=question.topic,
                            parse=lambda text: parse_json_model(schema, text), retry_hint=RETRY_HINT,
                            what=f"{schema.__name__} JSON", media=media)

    return ask


class FlashImages:
    """A Gemini image model: the prompt in, one inline image out."""

    def __init__(self, call: Call) -> None:
        self.model = call.model
        self.client = GenaiJsonClient(call.api_key or "", model=call.model, base_url=call.base_url)

    def image(self, job: ImageJob) -> Picture:
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=nearest_shape(job.size, FLASH_ASPECTS)))
        with self.client.named_errors():
            response = self.client.client.models.generate_content(
                model=self.model, contents=image_prompt(job), config=config)
        for candidate in (response.candidates or [])[:1]:
            for part in (candidate.content.parts if candidate.content else None) or []:
                blob = part.inline_data
                if blob and blob.data and (blob.mime_type or "").lower().startswith("image/"):
                    return Picture(data=fitted_png(blob.data, job.size, f"Gemini ({self.model})"),
                                   mime_type="image/png")
        reason = empty_reason(response) or "no image in the answer"
        if reason.startswith("blocked") or reason.removeprefix("finish reason ") in IMAGE_REFUSALS:
            raise UnsupportedPromptError(f"Gemini ({self.model}) declined to draw the scene ({reason})")
        raise ProviderError(f"Gemini ({self.model}) returned no image ({reason})")


class ImagenImages:
    """Imagen on Vertex AI express mode: ``generate_images``, with the filter's reason asked for."""

    def __init__(self, call: Call) -> None:
        self.model = call.model
        self._key = require_key(call.api_key, "Imagen (Vertex AI)", "x-image-api-key or x-api-key")
        self._vertex = VeoClient(self._key, model=call.model, base_url=call.base_url)

    def image(self, job: ImageJob) -> Picture:
        config = types.GenerateImagesConfig(
            number_of_images=1, aspect_ratio=nearest_shape(job.size, IMAGEN_ASPECTS), include_rai_reason=True)
        with self._vertex.named_errors():
            result = self._vertex.client.models.generate_images(
                model=self.model, prompt=image_prompt(job), config=config)
        generated = result.generated_images or []
        for one in generated:
            if one.image and one.image.image_bytes:
                return Picture(data=fitted_png(one.image.image_bytes, job.size, f"Imagen ({self.model})"),
                               mime_type="image/png")
        reasons = "; ".join(one.rai_filtered_reason for one in generated if one.rai_filtered_reason)
        if reasons:
            raise UnsupportedPromptError(
                f"Imagen ({self.model}) filtered the image for safety: {scrub(reasons, self._key)}")
        raise ProviderError(f"Imagen ({self.model}) returned no image")


class VeoVideos:
    """Veo image-to-video: ``start`` gives the operation's name, ``poll`` one look at it."""

    def __init__(self, call: Call) -> None:
        self.model = call.model
        self.client = VeoClient(call.api_key or "", model=call.model, base_url=call.base_url)

    def start(self, job: VideoJob, workdir: Path) -> VideoStart:
        lengths = VEO_SECONDS["veo-2" if self.model.startswith("veo-2") else "veo-3"]
        seconds = next((s for s in lengths if s >= job.duration_s - 1e-6), lengths[-1])
        name = self.client.start_video(video_prompt(job), job.image, seconds,
                                       nearest_shape(job.size, VEO_ASPECTS))
        return VideoStart(operation=name)

    def poll(self, operation: str) -> TaskState:
        return self.client.poll(operation)
