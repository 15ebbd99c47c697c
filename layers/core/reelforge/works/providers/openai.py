"""OpenAI for a work's vision, llm and (as the ``dalle`` provider) image roles, through the
shared ``OpenAIClient``: strict structured output, the reference's sampled frames as images,
and the Images API, asked for the model's size nearest the scene's and fitted to it as PNG.
"""

from __future__ import annotations

from reelforge.ai.openai_client import OpenAIClient
from reelforge.works.providers.base import Call, ImageJob, Picture
from reelforge.works.providers.prompts import (
    Ask,
    FrameVision,
    JsonWriter,
    M,
    Question,
    image_prompt,
)
from reelforge.works.providers.stills import fitted_png, nearest_shape

# What each image model makes, and the longest prompt it takes.
SIZES = {"gpt-image-1": ("1024x1024", "1536x1024", "1024x1536"),
         "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
         "dall-e-2": ("1024x1024",)}
PROMPT_LIMITS = {"gpt-image-1": 32_000, "dall-e-3": 4000, "dall-e-2": 1000}


def vision(call: Call) -> FrameVision:
    return FrameVision(_ask(call), label=f"OpenAI ({call.model})")


def writer(call: Call) -> JsonWriter:
    return JsonWriter(_ask(call))


def images(call: Call) -> DalleImages:
    return DalleImages(call)


def _ask(call: Call) -> Ask:
    client = OpenAIClient(call.api_key or "", model=call.model, base_url=call.base_url)

    def ask(question: Question, schema: type[M]) -> M:
        return client.ask_json(question.system, question.user, schema, question.images,
                               temperature=question.temperature)

    return ask


class DalleImages:
    def __init__(self, call: Call) -> None:
        self.model = call.model
        self.client = OpenAIClient(call.api_key or "", model=call.model, base_url=call.base_url)

    def image(self, job: ImageJob) -> Picture:
        data = self.client.image(image_prompt(job, PROMPT_LIMITS.get(self.model)),
                                 nearest_shape(job.size, SIZES.get(self.model, SIZES["dall-e-2"])))
        return Picture(data=fitted_png(data, job.size, f"OpenAI ({self.model})"), mime_type="image/png")
