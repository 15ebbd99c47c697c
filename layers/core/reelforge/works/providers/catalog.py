"""Every works provider, by role, with its models: what `GET /api/providers` lists, what the
provider headers are checked against (an unknown provider or model is a 400 that lists what
exists; the original fell back to the first model), and which module makes each one.

Each provider module (``works/providers/<module>.py``) has one factory per role it serves:
``vision(call)``, ``writer(call)`` (the llm role), ``images(call)``, ``videos(call)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

from reelforge.errors import BadRequest
from reelforge.settings import get_settings
from reelforge.works.providers.base import Call

Role = Literal["vision", "llm", "image", "video"]
ROLES: tuple[Role, ...] = ("vision", "llm", "image", "video")
_FACTORY = {"vision": "vision", "llm": "writer", "image": "images", "video": "videos"}


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Provider:
    id: str
    role: Role
    name: str
    description: str
    models: tuple[Model, ...]
    module: str
    vendor: str  # whose key it takes: "local" needs none

    @property
    def default_model(self) -> str:
        return self.models[0].id

    def model(self, model_id: str | None) -> str:
        if not model_id:
            return self.default_model
        if any(m.id == model_id for m in self.models):
            return model_id
        raise BadRequest(f"unknown {self.role} model {model_id!r} for provider {self.id}; "
                         f"models: {', '.join(m.id for m in self.models)}")


_GEMINI_TEXT = (Model("gemini-2.5-flash", "Gemini 2.5 Flash"), Model("gemini-2.5-pro", "Gemini 2.5 Pro"),
                Model("gemini-2.0-flash", "Gemini 2.0 Flash"))
_OPENAI_TEXT = (Model("gpt-4.1-mini", "GPT-4.1 mini"), Model("gpt-4.1", "GPT-4.1"), Model("gpt-4o", "GPT-4o"))
_CLAUDE_TEXT = (Model("claude-sonnet-4-5", "Claude Sonnet 4.5"), Model("claude-haiku-4-5", "Claude Haiku 4.5"),
                Model("claude-opus-4-1", "Claude Opus 4.1"))
_LOCAL = "Offline, on this server, no key: "

PROVIDERS: tuple[Provider, ...] = (
    Provider("local", "vision", "Local (offline)", _LOCAL + "measures the reference (PySceneDetect scenes, k-means "
             "palette, cut tempo, optical-flow camera movement, text-overlay likelihood, faster-whisper speech) "
             "and writes descriptions from the measurements only.",
             (Model("local-measure", "Measured analysis"),), "local", "local"),
    Provider("gemini", "vision", "Google Gemini", "Gemini reads sampled frames of the reference (google-genai).",
             _GEMINI_TEXT, "gemini", "gemini"),
    Provider("openai", "vision", "OpenAI", "An OpenAI vision model reads sampled frames (openai SDK).",
             _OPENAI_TEXT, "openai", "openai"),
    Provider("claude", "vision", "Anthropic Claude", "Claude reads sampled frames (anthropic SDK).",
             _CLAUDE_TEXT, "claude", "anthropic"),
    Provider("local", "llm", "Local (offline)", _LOCAL + "composes scenes from the intent, the analysis's "
             "scene count and rhythm and the style guide, from templates.",
             (Model("local-compose", "Template composer"),), "local", "local"),
    Provider("gemini", "llm", "Google Gemini", "Structured output from Gemini (google-genai).",
             _GEMINI_TEXT, "gemini", "gemini"),
    Provider("openai", "llm", "OpenAI", "Structured output from OpenAI chat models (openai SDK).",
             _OPENAI_TEXT, "openai", "openai"),
    Provider("claude", "llm", "Anthropic Claude", "A forced tool call returns the JSON (anthropic SDK).",
             _CLAUDE_TEXT, "claude", "anthropic"),
    Provider("local", "image", "Local (offline)", _LOCAL + "a designed card in the style guide's palette that "
             "shows the prompt's subject: a stand-in, not a generated image.",
             (Model("local-card", "Designed card"),), "local", "local"),
    Provider("gemini", "image", "Google Gemini / Imagen",
             "gemini-2.5-flash-image takes a Gemini API key; Imagen models run on Vertex AI express mode "
             "(a Vertex AI API key).",
             (Model("gemini-2.5-flash-image", "Gemini 2.5 Flash Image"),
              Model("imagen-4.0-generate-001", "Imagen 4", "Vertex AI express mode key"),
              Model("imagen-4.0-fast-generate-001", "Imagen 4 Fast", "Vertex AI express mode key")),
             "gemini", "gemini"),
    Provider("dalle", "image", "OpenAI Images", "The OpenAI Images API (openai SDK).",
             (Model("gpt-image-1", "GPT Image 1"), Model("dall-e-3", "DALL-E 3"), Model("dall-e-2", "DALL-E 2")),
             "openai", "openai"),
    Provider("local", "video", "Local (offline)", _LOCAL + "the scene image in motion (the scene's camera "
             "movement), timed to the scene's duration.",
             (Model("local-motion", "Image in motion"),), "local", "local"),
    Provider("gemini", "video", "Google Veo", "Veo image-to-video on Vertex AI express mode (a Vertex AI API "
             "key), a long-running operation polled by the works state machine.",
             (Model("veo-3.0-generate-001", "Veo 3"), Model("veo-3.0-fast-generate-001", "Veo 3 Fast"),
              Model("veo-2.0-generate-001", "Veo 2")), "gemini", "gemini"),
    Provider("runway", "video", "Runway", "Runway image-to-video (runwayml SDK), a task polled to completion.",
             (Model("gen4_turbo", "Gen-4 Turbo"), Model("gen3a_turbo", "Gen-3 Alpha Turbo")), "runway", "runway"),
)


def providers_for(role: Role) -> list[Provider]:
    return [p for p in PROVIDERS if p.role == role]


def find(role: Role, provider_id: str) -> Provider:
    for p in PROVIDERS:
        if p.role == role and p.id == provider_id:
            return p
    raise BadRequest(f"unknown {role} provider {provider_id!r}; {role} providers: "
                     f"{', '.join(p.id for p in providers_for(role))}")


def server_key(vendor: str) -> str | None:
    """A key the server itself holds for `vendor` (only Gemini's is configurable), else None."""
    if vendor == "gemini":
        key = get_settings().gemini_api_key
        return key.get_secret_value() if key else None
    return None


def base_url(provider: Provider, model: str) -> str | None:
    s = get_settings()
    if provider.vendor == "gemini":
        vertex = provider.role == "video" or model.startswith("imagen")
        return s.vertex_base_url if vertex else s.gemini_base_url
    return {"openai": s.openai_base_url, "anthropic": s.anthropic_base_url,
            "runway": s.runway_base_url}.get(provider.vendor)


def make(role: Role, call: Call) -> Any:
    """The role's object (Vision, Writer, ImageMaker or VideoMaker) for this call."""
    provider = find(role, call.provider)
    module = importlib.import_module(f"reelforge.works.providers.{provider.module}")
    return getattr(module, _FACTORY[role])(call)


def listing() -> list[dict[str, Any]]:
    """`GET /api/providers`: the contract's fields, and whether each is usable here."""
    out = []
    for p in PROVIDERS:
        usable = p.vendor == "local" or server_key(p.vendor) is not None
        out.append({"id": p.id, "name": p.name, "category": p.role, "description": p.description,
                    "models": [{"id": m.id, "name": m.name, **({"description": m.description} if m.description else {})}
                               for m in p.models],
                    "usable": usable, "needsKey": p.vendor != "local",
                    "usableWhen": "always (offline)" if p.vendor == "local" else
                    ("a server key is configured" if usable else f"the request carries a {p.vendor} key "
                     f"(x-{p.role}-api-key or x-api-key)")})
    return out
