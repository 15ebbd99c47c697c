"""The Gemini moment provider (google-genai SDK, structured JSON output).

Gemini reads the timestamped transcript and the scene cuts and proposes moments; its times
are only proposals: ``select_moments`` runs them through ``finalize`` like any provider's.

Errors are mapped to the names the state machine matches: throttling, 5xx and timeouts
are ``TransientError`` (Step Functions retries; the SDK's own retries stay off so the two
do not multiply), a rejected key or request is ``ProviderError``. No message ever carries
the API key. Output that is not valid JSON for the schema gets one corrective retry.
"""

from __future__ import annotations

import contextlib
import json
from importlib import import_module
from types import ModuleType

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from reelforge.ai.moments import MomentRequest, Timeline
from reelforge.errors import ProviderError, TransientError
from reelforge.models import Moment, Scene, Transcript

DEFAULT_MODEL = "gemini-2.5-flash"
# Structured output (responseSchema) is documented on v1beta; pin it rather than follow
# the SDK's default version, which has changed between SDK releases.
API_VERSION = "v1beta"
MAX_SCENE_CUTS_IN_PROMPT = 600

SYSTEM_INSTRUCTION = (
    "You are a short-form video editor. From the transcript of a long video you pick the "
    "self-contained moments that will perform best as vertical clips on TikTok, Reels and "
    "YouTube Shorts: a strong hook in the first seconds, one clear idea, a satisfying end. "
    "You answer with JSON only."
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


def _http_libraries() -> list[ModuleType]:
    """The SDK sends through httpx or its fork httpx2, whichever it picks: catch both."""
    found: list[ModuleType] = []
    for name in ("httpx", "httpx2"):
        with contextlib.suppress(ImportError):
            found.append(import_module(name))
    return found


_HTTP = _http_libraries()
_TIMEOUTS = tuple(lib.TimeoutException for lib in _HTTP)
_TRANSPORT_ERRORS = tuple(lib.TransportError for lib in _HTTP)


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
        api_key = (api_key or "").strip()
        if not api_key:
            raise ProviderError(
                "Gemini provider needs an API key (X-Gemini-Key header or GEMINI_API_KEY)"
            )
        self._api_key = api_key
        self.model = model
        self.timeout_s = timeout_s
        self.temperature = temperature
        options = types.HttpOptions(
            api_version=API_VERSION, timeout=int(timeout_s * 1000), base_url=base_url or None
        )
        self._client = genai.Client(api_key=api_key, http_options=options)

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
        prompt = build_prompt(timeline, transcript.language, request)
        contents: list[types.Content] = [_user(prompt)]
        text, moments, problem = self._attempt(contents)
        if problem is not None:
            if text:
                contents.append(types.Content(role="model", parts=[types.Part(text=text)]))
            contents.append(
                _user(
                    f"Your previous answer was not valid: {problem}. Answer again with only a "
                    "JSON array of objects with the keys start, end, title, hook, score and "
                    "reason; times in seconds, end after start."
                )
            )
            text, moments, problem = self._attempt(contents)
            if problem is not None:
                raise ProviderError(
                    f"Gemini ({self.model}) returned unusable moments twice: {problem}"
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

    def _attempt(
        self, contents: list[types.Content]
    ) -> tuple[str | None, list[GeminiMoment], str | None]:
        """One call: (raw text, moments, None) or (raw text, [], what was wrong)."""
        text, empty_reason = self._generate(contents)
        if empty_reason is not None:
            return text, [], f"the answer was empty ({empty_reason})"
        try:
            return text, parse_moments(text), None
        except ValueError as exc:
            return text, [], str(exc)

    def _generate(self, contents: list[types.Content]) -> tuple[str | None, str | None]:
        """The model's text, or None and why there is none (blocked, no candidates)."""
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            response_mime_type="application/json",
            response_schema=list[GeminiMoment],
            temperature=self.temperature,
        )
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        except genai_errors.APIError as exc:
            raise self._mapped(exc) from None
        except _TIMEOUTS:
            raise TransientError(f"Gemini did not answer within {self.timeout_s:g} s") from None
        except _TRANSPORT_ERRORS as exc:
            raise TransientError(
                f"could not reach Gemini: {self._scrub(type(exc).__name__ + ': ' + str(exc))}"
            ) from None
        text = response.text
        if text and text.strip():
            return text, None
        feedback = response.prompt_feedback
        if feedback and feedback.block_reason:
            return None, f"blocked: {_name(feedback.block_reason)}"
        if response.candidates and response.candidates[0].finish_reason:
            return None, f"finish reason {_name(response.candidates[0].finish_reason)}"
        return None, "no candidates"

    def _mapped(self, exc: genai_errors.APIError) -> Exception:
        code = exc.code or 0
        status = exc.status or ""
        message = self._scrub(str(exc.message or "")).strip()
        label = f"{code} {status}".strip()
        if code in (408, 429) or code >= 500:
            return TransientError(f"Gemini is unavailable or throttling ({label}): {message}")
        key_problem = code in (401, 403) or "api key" in message.lower()
        if key_problem:
            return ProviderError(
                f"Gemini rejected the API key ({label}): check the X-Gemini-Key header or "
                f"GEMINI_API_KEY. Gemini said: {message}"
            )
        if code == 404:
            return ProviderError(f"Gemini model {self.model!r} was not found ({label}): {message}")
        return ProviderError(f"Gemini rejected the request ({label}): {message}")

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text


def parse_moments(text: str | None) -> list[GeminiMoment]:
    """Validate Gemini's JSON; raises ValueError with a short, model-readable reason."""
    if not text or not text.strip():
        raise ValueError("the answer was empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if isinstance(data, dict) and isinstance(data.get("moments"), list):
        data = data["moments"]  # tolerate a wrapping object
    try:
        return _MOMENTS.validate_python(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors()[:4]
        ]
        raise ValueError("does not match the schema (" + "; ".join(problems) + ")") from None


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


def _name(value: object) -> str:
    """An SDK enum's wire name (SAFETY), whatever the Python version's enum formatting."""
    return str(getattr(value, "value", value))


def _user(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])
