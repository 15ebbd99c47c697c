"""The Gemini moment provider (google-genai SDK, structured JSON output).

Gemini reads the timestamped transcript and the scene cuts and proposes moments; its times
are only proposals: ``select_moments`` runs them through ``finalize`` like any provider's.

Client, error mapping and the one corrective retry are shared with the other Gemini
providers (``reelforge.ai.genai_client``): throttling, 5xx and timeouts are
``TransientError`` (Step Functions retries; the SDK's own retries stay off so the two do not
multiply), a rejected key or request is ``ProviderError``, and no message ever carries the
API key. Output that is not valid JSON for the schema gets one corrective retry.
"""

from __future__ import annotations

from google.genai import types
from pydantic import BaseModel, Field, TypeAdapter, model_validator

from reelforge.ai.genai_client import DEFAULT_MODEL, GenaiJsonClient, parse_json_as, user_text
from reelforge.clips.moments.base import Moment
from reelforge.clips.moments.select import MomentRequest, Timeline
from reelforge.models import Scene, Transcript

MAX_SCENE_CUTS_IN_PROMPT = 600

SYSTEM_INSTRUCTION = (
    "You are a short-form video editor. From the transcript of a long video you pick the "
    "self-contained moments that will perform best as vertical clips on TikTok, Reels and "
    "YouTube Shorts: a strong hook in the first seconds, one clear idea, a satisfying end. "
    "You answer with JSON only."
)
RETRY_HINT = (
    "Answer again with only a JSON array of objects with the keys start, end, title, hook, "
    "score and reason; times in seconds, end after start."
)


class GeminiMoment(BaseModel):
    """One moment as Gemini returns it; also the response schema sent to the API."""

    start: float = Field(ge=0, description="clip start, seconds from the video start")
    end: float = Field(ge=0, description="clip end, seconds from the video start")
    title: str = Field(description="catchy headline, at most 60 characters")
    hook: str = Field(description="the clip's opening line, as spoken")
    score: float = Field(ge=0, le=100, description="predicted virality, 0-100")
    reason: str = Field(description="one sentence: why this moment works as a clip")

    @model_validator(mode="after")
    def _ordered(self) -> GeminiMoment:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


_MOMENTS = TypeAdapter(list[GeminiMoment])


class GeminiMomentProvider:
    """Moment selection by a Gemini model; needs an API key."""

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        temperature: float = 0.4,
    ) -> None:
        self._caller = GenaiJsonClient(api_key, model=model, base_url=base_url, timeout_s=timeout_s)
        self.model = model
        self.timeout_s = timeout_s
        self.temperature = temperature

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"GeminiMomentProvider(model={self.model!r})"

    def propose(
        self,
        transcript: Transcript,
        scenes: list[Scene],
        duration: float,
        request: MomentRequest,
    ) -> list[Moment]:
        timeline = Timeline(transcript, scenes, duration)
        if not timeline.has_speech:
            # Nothing for a text model to read; select_moments fills from scene windows.
            return []
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            response_mime_type="application/json",
            response_schema=list[GeminiMoment],
            temperature=self.temperature,
        )
        moments = self._caller.ask_json(
            [user_text(build_prompt(timeline, transcript.language, request))],
            config=config,
            parse=parse_moments,
            retry_hint=RETRY_HINT,
            what="moments",
        )
        return [
            Moment(
                start=m.start,
                end=m.end,
                title=m.title.strip(),
                hook=m.hook.strip(),
                score=round(m.score),
                reason=f"gemini: {m.reason.strip()}",
            )
            for m in moments
        ]


def parse_moments(text: str | None) -> list[GeminiMoment]:
    """Validate Gemini's JSON; raises ValueError with a short, model-readable reason."""
    return parse_json_as(_MOMENTS, text, unwrap="moments")  # tolerate {"moments": [...]}


def build_prompt(timeline: Timeline, language: str, request: MomentRequest) -> str:
    """Compact, timestamped transcript (one line per sentence) plus the rules."""
    lines = [f"[{s.start:.1f}-{s.end:.1f}] {s.text}" for s in timeline.sentences]
    cuts = timeline.scene_cuts
    if len(cuts) > MAX_SCENE_CUTS_IN_PROMPT:
        step = len(cuts) / MAX_SCENE_CUTS_IN_PROMPT
        cuts = [cuts[int(k * step)] for k in range(MAX_SCENE_CUTS_IN_PROMPT)]
    cut_text = ", ".join(f"{c:.1f}" for c in cuts) if cuts else "none detected"
    return "\n".join(
        [
            f"Video length: {timeline.duration:.1f} s. Transcript language: {language or 'unknown'}.",
            "",
            f"Pick about {request.target} moments (at least {request.min_clips}, at most "
            f"{request.max_clips}) for vertical short-form clips. Rules:",
            f"- each moment lasts between {request.min_len:g} and {request.max_len:g} seconds;",
            "- moments do not overlap;",
            "- start at the start of a transcript sentence and end at the end of one, so the "
            "clip is self-contained and no sentence is cut;",
            "- prefer moments whose first sentence hooks the viewer (a question, a surprising "
            "claim, a number, a direct 'you');",
            "- if a scene cut is within about 1.5 s of a boundary, prefer it;",
            "- title: a catchy headline of at most 60 characters, in the transcript's language;",
            "- hook: the clip's opening line; reason: one sentence; score: 0-100 virality.",
            "",
            f"Scene cuts (seconds): {cut_text}",
            "",
            "Transcript ([start-end] seconds, one sentence per line):",
            *lines,
        ]
    )
