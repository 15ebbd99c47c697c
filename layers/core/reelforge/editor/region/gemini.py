"""The Gemini region-edit provider: Gemini reads the prompt, the local renderer draws it.

What this is, honestly: generative video-editing models are not reachable with every API
key, so this provider does not ask Gemini to edit pixels. A Gemini text model (structured
JSON output) translates a free-form prompt into one of the local renderer's intents and its
parameters ("make the logo unreadable" -> pixelate, "give it a sunset glow" -> tint orange,
'put SALE in the corner' -> text "SALE"); ``reelforge.editor.region.render.render_variants`` then renders
the variants with ffmpeg exactly as the local provider does. What Gemini gains over the
local keyword reader is understanding wording; what it cannot add is any effect the renderer
lacks: when Gemini says the prompt needs something else (replacing the sky with fireworks),
the provider raises ``UnsupportedPromptError`` with Gemini's reason and the list of what it
can do. Client, error mapping and the one corrective retry are shared with the other Gemini
providers (``reelforge.ai.genai_client``).
"""

from __future__ import annotations

from google.genai import types
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from reelforge.ai.genai_client import DEFAULT_MODEL, GenaiJsonClient, parse_json_as, user_text
from reelforge.editor.region.render import (
    CAPABILITIES,
    INTENT_KINDS,
    NAMED_COLOURS,
    IntentKind,
    RegionEditProvider,
    RegionIntent,
    capabilities_text,
)
from reelforge.errors import UnsupportedPromptError

SYSTEM_INSTRUCTION = (
    "You translate a video editor's request about a rectangular region of a video into one "
    "operation of a fixed renderer. The renderer can only do these operations on the region: "
    "blur; pixelate (also for censoring, hiding, anonymising, making something unreadable); "
    "brighten; darken; tint (recolour toward one named colour); greyscale (black and white); "
    "sharpen; spotlight (dim everything outside the region to draw attention to it); zoom "
    "(enlarge the region to fill the frame); text (draw given words inside the region). "
    "If the request needs anything else (generating, replacing, removing or moving objects, "
    "changing motion, style transfer), answer supported=false. You answer with JSON only."
)


class GeminiRegionIntent(BaseModel):
    """Gemini's reading of the prompt; also the response schema sent to the API."""

    supported: bool = Field(description="false when no single listed operation does the edit")
    intent: IntentKind | None = Field(
        default=None, description="the operation, when supported; null otherwise"
    )
    colour: str | None = Field(
        default=None,
        description="tint only: one of " + ", ".join(NAMED_COLOURS) + "; null otherwise",
    )
    text: str | None = Field(
        default=None, description="text only: the exact words to draw; null otherwise"
    )
    reason: str = Field(description="one short sentence: why this operation, or why none fits")

    @model_validator(mode="after")
    def _complete(self) -> GeminiRegionIntent:
        if self.supported and self.intent is None:
            raise ValueError("supported is true but intent is null")
        return self

    def to_intent(self) -> RegionIntent:
        """The renderer's intent; ValueError (so a retry) when a parameter is missing or unknown."""
        if self.intent is None:
            raise ValueError("no intent")
        try:
            return RegionIntent(
                kind=self.intent,
                colour=self.colour if self.intent == "tint" else None,
                text=self.text if self.intent == "text" else None,
                matched=f"gemini: {self.reason.strip()}"[:300],
            )
        except ValidationError as exc:
            problems = "; ".join(err["msg"] for err in exc.errors()[:3])
            raise ValueError(f"the {self.intent} operation is incomplete ({problems})") from None


_ANSWER = TypeAdapter(GeminiRegionIntent)


def parse_answer(text: str | None) -> tuple[GeminiRegionIntent, RegionIntent | None]:
    """Gemini's answer and, when supported, the renderer's intent; ValueError if unusable."""
    answer = parse_json_as(_ANSWER, text)
    return answer, (answer.to_intent() if answer.supported else None)


class GeminiRegionProvider(RegionEditProvider):
    """Prompt understanding by Gemini, rendering by the local ffmpeg renderer; needs a key."""

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._caller = GenaiJsonClient(api_key, model=model, base_url=base_url, timeout_s=timeout_s)
        self.model = model

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"GeminiRegionProvider(model={self.model!r})"

    def interpret(self, prompt: str) -> RegionIntent:
        """The renderer intent Gemini reads in ``prompt``; UnsupportedPromptError if none fits."""
        prompt = " ".join((prompt or "").split())
        if not prompt:
            raise UnsupportedPromptError(
                f"the prompt is empty; this provider can: {capabilities_text()}"
            )
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            response_mime_type="application/json",
            response_schema=GeminiRegionIntent,
            temperature=0.0,
        )
        answer, intent = self._caller.ask_json(
            [user_text(f"Request: {prompt}")],
            config=config,
            parse=parse_answer,
            retry_hint=(
                "Answer again with only a JSON object with the keys supported, intent (one of "
                f"{', '.join(INTENT_KINDS)}, or null), colour (tint only: one of "
                f"{', '.join(NAMED_COLOURS)}), text (text only) and reason."
            ),
            what="region intents",
        )
        if intent is None:
            raise UnsupportedPromptError(
                f"the gemini provider cannot do {prompt!r} ({answer.reason.strip()}); "
                f"it can: {', '.join(CAPABILITIES)}"
            )
        return intent
