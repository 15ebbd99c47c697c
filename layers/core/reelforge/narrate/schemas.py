"""The narrated-video surface's request bodies and its two documents, content and script (seed
003's /api/content and /api/script shapes). Step payloads are plain JSON (narrate/steps.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
    model_validator,
)

from reelforge.fields import NOT_BLANK, BlankIsAbsent, Listed, OptionalStr
from reelforge.media.layouts import Aspect
from reelforge.media.slides import TONES
from reelforge.media.tts import LANGUAGES, VOICES, get_voice
from reelforge.media.tts import Provider as SpeechEngine

MAX_SLIDES = 20
MAX_SOURCE_CHARS = 50_000
Tone = Literal["formal", "casual", "storytelling"]
assert set(TONES) == set(Tone.__args__)  # the slide designer draws every tone a request may name

_Topic = Annotated[str, StringConstraints(  # no control characters but tab and line breaks; not blank
    strip_whitespace=True, min_length=1, max_length=500,
    pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
_Text = Annotated[str, StringConstraints(max_length=4000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


class RenderOptions(BaseModel):
    """How a generation is drawn and spoken; kept with it, so a re-render looks the same."""

    language: Annotated[Annotated[str, Listed(LANGUAGES)], BlankIsAbsent] = Field(
        default="english", description=f"narration language: {', '.join(LANGUAGES)} (any case)")
    tone: Annotated[Tone, BlankIsAbsent] = Field(
        default="formal", description="formal, casual or storytelling: the writing and the slides' look")
    aspect: Annotated[Aspect, BlankIsAbsent] = Field(
        default="16:9", description="16:9 (1920x1080), 9:16 (1080x1920) or 1:1 (1080x1080)")
    captions: Annotated[bool, Strict(), BlankIsAbsent] = Field(
        default=False, description="burn the narration in as word-by-word captions")
    voice: Annotated[Annotated[str, Listed(v.id for v in VOICES)] | None, BlankIsAbsent] = Field(
        default=None, max_length=64, description="a voice id from GET /api/voices; the language's first if absent")

    @field_validator("language", mode="before")
    @classmethod
    def _known_language(cls, v: object) -> object:
        if isinstance(v, str) and v.strip():  # a blank one is left to BlankIsAbsent
            v = v.strip().lower()
            if v not in LANGUAGES:
                raise ValueError(f"unknown language {v!r}; one of: {', '.join(LANGUAGES)}")
        return v

    @model_validator(mode="after")
    def _voice_speaks_language(self) -> RenderOptions:
        if self.voice is not None:
            voice = get_voice(self.voice, self.language)  # ValueError names the voices
            if voice.language != self.language:
                raise ValueError(f"voice {self.voice!r} speaks {voice.language}, not {self.language}")
        return self


class GenerateBody(RenderOptions):
    """POST /api/generate: seed 003's four fields, then ours (all optional)."""

    topic: _Topic = Field(description="what the video is about (1-500 characters)")
    num_slides: Annotated[int, BlankIsAbsent] = Field(default=5, ge=1, le=MAX_SLIDES)
    source_text: OptionalStr = Field(
        default=None, max_length=MAX_SOURCE_CHARS,
        description="an article or notes to build the video from (up to 50,000 characters)")
    target_duration_s: Annotated[float | None, BlankIsAbsent] = Field(
        default=None, ge=10, le=1200, description="size the script to about this many seconds (+-15%)")
    stop_after: Annotated[Literal["script"] | None, BlankIsAbsent] = Field(
        default=None, description='"script": stop for review before rendering')

    def options(self) -> RenderOptions:
        return RenderOptions(**self.model_dump(include=set(RenderOptions.model_fields)))


class SlideEdit(BaseModel):
    """POST /api/generate/{id}/slides/{n}: what changes on one slide (at least one field)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [  # what _something checks
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("title", "content_text", "narration_text")]})

    title: Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)] = None
    content_text: _Text | None = None
    narration_text: Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1,
                                                            max_length=4000, pattern=NOT_BLANK)] = None

    @model_validator(mode="after")
    def _something(self) -> SlideEdit:
        if self.title is None and self.content_text is None and self.narration_text is None:
            raise ValueError("give at least one of title, content_text, narration_text")
        return self


# --- the documents (seed 003's /api/content and /api/script shapes) ------------------------

class Slide(BaseModel):
    slide_number: int = Field(ge=1, le=MAX_SLIDES)
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)]
    content_text: _Text = ""
    needs_image: bool = False
    image_keyword: Annotated[str, StringConstraints(max_length=200)] = ""
    needs_animation: bool = False
    animation_description: Annotated[str, StringConstraints(max_length=1000)] = ""
    duration: float = Field(default=10.0, ge=1, le=600)

    @model_validator(mode="after")
    def _one_visual(self) -> Slide:
        # Text only, an image or motion: never both (as the original enforces).
        if self.needs_animation and self.needs_image:
            self.needs_image = False
        return self


class Content(BaseModel):
    topic: str
    total_slides: int
    slides: list[Slide] = Field(min_length=1, max_length=MAX_SLIDES)
    provider: str = "local"
    notes: str = ""

    @model_validator(mode="after")
    def _numbered(self) -> Content:
        self.total_slides = len(self.slides)
        for i, slide in enumerate(self.slides, start=1):
            slide.slide_number = i
        return self


class SlideScript(BaseModel):
    slide_number: int = Field(ge=1, le=MAX_SLIDES)
    start_time: float = 0.0
    end_time: float = 0.0
    narration_text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000, pattern=NOT_BLANK)]


class Script(BaseModel):
    topic: str
    total_duration: float = 0.0
    language: str = "english"
    slide_scripts: list[SlideScript] = Field(min_length=1, max_length=MAX_SLIDES)
    timed: bool = Field(default=False, description="true once the times come from the real narration")


class ContentEdit(BaseModel):
    """PUT /api/content/{id}: the slides (same count as the script's)."""

    slides: list[Slide] = Field(min_length=1, max_length=MAX_SLIDES)


class ScriptEdit(BaseModel):
    """PUT /api/script/{id}: the narration of every slide (times are recomputed on render)."""

    slide_scripts: list[SlideScript] = Field(min_length=1, max_length=MAX_SLIDES)


# --- answers (documentation: api/openapi.answers) ---

_GID = "0f3c2a9b8d7e4f6a9b1c2d3e4f5a6b7c"


class RenderQueued(BaseModel):
    """202 of POST /api/generate, .../render and .../slides/{n}: the run is queued."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "queued", "generation_id": _GID, "job_id": "7d1e5b2c9a4f4e0b8c3d6a1f2e9b0c4d",
        "message": "Generation started: follow progress_url for live progress",
        "status_url": f"/api/status/{_GID}", "progress_url": f"/api/progress/{_GID}",
        "video_filename": f"{_GID}_final.mp4",
        "video_url": f"/api/video/{_GID}_final.mp4?expires=1795000000&sig=5b8e0c4f1a2d",
    }]})

    status: Literal["queued"]
    generation_id: str
    job_id: str = Field(description="this run's job")
    message: str
    status_url: str = Field(description="GET: the run's status")
    progress_url: str = Field(description="GET: the run's progress as server-sent events")
    video_filename: str = Field(description="for GET /api/video/{filename} once the video is ready")
    video_url: str = Field(description="a signed link that plays without an Authorization header (404 until ready)")


class PresentationSlide(BaseModel):
    slide_number: int = Field(ge=1, le=MAX_SLIDES)
    title: str
    content_text: str = Field(description="the slide's text")
    needs_image: bool = Field(description="drawn with a picture (never together with needs_animation)")
    image_keyword: str = Field(description="what the picture shows; empty without one")
    needs_animation: bool = Field(description="drawn with motion (never together with needs_image)")
    animation_description: str = Field(description="what the motion shows; empty without one")
    duration: float = Field(description="seconds (an estimate until the narration is spoken)")


class PresentationContent(BaseModel):
    """GET and PUT /api/content/{id}: seed 003's content document."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "topic": "How solar panels work", "total_slides": 1, "slides": [{
            "slide_number": 1, "title": "Sunlight to electricity",
            "content_text": "Photons free electrons in silicon cells", "needs_image": True,
            "image_keyword": "solar panel rooftop", "needs_animation": False,
            "animation_description": "", "duration": 12.5}]}]})

    topic: str
    total_slides: int = Field(description="the number of slides")
    slides: list[PresentationSlide]


class SlideNarration(BaseModel):
    slide_number: int = Field(ge=1, le=MAX_SLIDES)
    start_time: float = Field(description="seconds from the start of the video")
    end_time: float = Field(description="seconds from the start of the video")
    narration_text: str = Field(description="what is spoken over the slide")


class NarrationScript(BaseModel):
    """GET and PUT /api/script/{id}: seed 003's script document."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "topic": "How solar panels work", "total_duration": 12.5, "language": "english",
        "slide_scripts": [{"slide_number": 1, "start_time": 0.0, "end_time": 12.5,
                           "narration_text": "Sunlight carries energy; a solar cell turns it into current."}]}]})

    topic: str
    total_duration: float = Field(description="seconds")
    language: str = Field(description=f"the narration language: {', '.join(LANGUAGES)}")
    slide_scripts: list[SlideNarration]


class NarrationVoice(BaseModel):
    id: str = Field(description="the `voice` to give POST /api/generate")
    name: str
    provider: SpeechEngine = Field(description="the offline speech engine")


class NarrationVoices(BaseModel):
    """GET /api/voices: the offline voices of every narration language."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "languages": {"english": [
            {"id": "piper-en_US-joe", "name": "Joe (US English, Piper, CC0)", "provider": "piper"},
            {"id": "espeak-en-us", "name": "espeak-ng en-us", "provider": "espeak"}],
            "hindi": [{"id": "espeak-hi", "name": "espeak-ng hi", "provider": "espeak"}]},
        "notes": "With an X-Gemini-Key the narration is spoken by Gemini TTS where the key allows; "
                 "these offline voices are the fallback and the default."}]})

    languages: dict[str, list[NarrationVoice]] = Field(
        description=f"per language ({', '.join(LANGUAGES)}), its voices, the default first")
    notes: str
