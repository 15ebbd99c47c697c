"""Request bodies of the script studio (seed 004, `/api/v1`): camelCase JSON, the contract's
limits and defaults. Unknown keys are ignored (the original's zod objects strip them); a form
client's "" for an optional field means absent."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from reelforge.fields import NOT_BLANK, BlankIsAbsent, Flag, Integer, Listed, name_field
from reelforge.media.tts import VOICES
from reelforge.studio.catalog import MODELS, STYLES
from reelforge.studio.writers.base import CAMERA_MOVEMENTS

MAX_SOURCE_CHARS = 100_000
MAX_SECTIONS = 60
MAX_IDS = 2_000  # sentences of one section (a 180-minute script has about 1,800 in all)
# The original's default voice name; it means "the default voice" here.
LEGACY_DEFAULT_VOICE = "Emily"
LEGACY_DEFAULT_MODEL = "z-image-turbo"
VOICE_IDS = (LEGACY_DEFAULT_VOICE, *(voice.id for voice in VOICES))

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def optional_text(max_length: int) -> Any:
    """An optional string of at most `max_length` characters ("" and null mean absent)."""
    return Annotated[Annotated[str, StringConstraints(max_length=max_length)] | None, BlankIsAbsent]


def optional_choice(names: Any) -> Any:
    """An optional name out of `names` ("" and null mean absent). The OpenAPI lists them;
    the field's validator words the refusal (and points to the route that lists them)."""
    return Annotated[Annotated[str, Listed(names)] | None, BlankIsAbsent]


Camera = Literal[CAMERA_MOVEMENTS]  # type: ignore[valid-type]  # Literal["static", "pan_left", ...]
Minutes = Annotated[Integer, Field(ge=1, le=180)]
Text = Annotated[str, StringConstraints(max_length=1000)]
Prompt = optional_text(2000)
Strength = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def known_voice(v: str | None) -> str | None:
    if v is None or v in VOICE_IDS:
        return v
    raise ValueError(f"unknown voice {v!r}; voices: {', '.join(x.id for x in VOICES)}")


class Body(BaseModel):
    """camelCase, unknown keys ignored. For an optional field, "" and null mean "absent" (a form
    client sends "" for what it leaves empty), except that null clears the fields a model
    names in `clearable` (an update's topic or prompt)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
    clearable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _absent_blanks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = {f.alias or name: (name, f) for name, f in cls.model_fields.items()}
        out = {}
        for key, value in data.items():
            name, info = fields.get(key, (key, None))
            blank = value is None or (isinstance(value, str) and not value.strip())
            if info is not None and blank and not info.is_required():
                if value is None and name in cls.clearable:
                    out[key] = None
                continue
            out[key] = value
        return out


# --- projects ----------------------------------------------------------------------------------

class ProjectFields(Body):
    topic: optional_text(1000) = None
    target_duration: Annotated[Integer | None, Field(ge=1, le=180)] = None
    model_id: optional_choice([LEGACY_DEFAULT_MODEL, *MODELS]) = None
    style_id: optional_choice(STYLES) = None
    visual_style: optional_text(100) = None
    voice_id: optional_choice(VOICE_IDS) = None
    # Ours: the user's own text; the local provider writes the script from it.
    source_text: optional_text(MAX_SOURCE_CHARS) = None

    @field_validator("voice_id")
    @classmethod
    def _known_voice(cls, v: str | None) -> str | None:
        return known_voice(v)

    @field_validator("model_id")
    @classmethod
    def _known_model(cls, v: str | None) -> str | None:
        if v is None or v == LEGACY_DEFAULT_MODEL or v in MODELS:
            return v
        raise ValueError(f"unknown model {v!r}; models: {', '.join(MODELS)} (GET /api/v1/models)")

    @field_validator("style_id")
    @classmethod
    def _known_style(cls, v: str | None) -> str | None:
        if v is None or v in STYLES:
            return v
        raise ValueError(f"unknown style {v!r}; styles: {', '.join(STYLES)} (GET /api/v1/styles)")


class ProjectCreate(ProjectFields):
    name: name_field(200)


class ProjectUpdate(ProjectFields):
    clearable: ClassVar[frozenset[str]] = frozenset({"topic", "source_text"})
    name: Annotated[name_field(200) | None, BlankIsAbsent] = None


# --- cast and characters --------------------------------------------------------------------------

class CastAdd(Body):
    character_id: Id


class CastBatch(Body):
    character_ids: list[Id] = Field(min_length=1, max_length=100)


class CharacterFields(Body):
    description: optional_text(2000) = None
    reference_images: list[HttpUrl] | None = Field(default=None, max_length=5)
    style_lora: optional_text(200) = None
    # Ours: the voice this character speaks with (a sentence whose speaker it is).
    voice_id: optional_choice(VOICE_IDS) = None

    @field_validator("voice_id")
    @classmethod
    def _known_voice(cls, v: str | None) -> str | None:
        return known_voice(v)


class CharacterCreate(CharacterFields):
    name: name_field(255)


class CharacterUpdate(CharacterFields):
    clearable: ClassVar[frozenset[str]] = frozenset({"description", "style_lora", "voice_id"})
    name: Annotated[name_field(255) | None, BlankIsAbsent] = None


# --- generation ----------------------------------------------------------------------------------

class Topic(Body):
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NOT_BLANK)]
    visual_style: Annotated[str, BlankIsAbsent, StringConstraints(max_length=100)] = "cinematic"


class QuickGenerate(Topic):
    target_duration_minutes: Minutes
    use_search_grounding: Flag = False


class GenerateOutline(Topic):
    target_duration_minutes: Minutes


class ScriptShort(Body):
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NOT_BLANK)]
    target_duration: Annotated[Integer, Field(ge=1, le=10)]
    use_search_grounding: Flag = False


class ScriptLong(Body):
    mode: Literal["auto", "from-outline"]
    outline_id: Annotated[Id | None, BlankIsAbsent] = None
    topic: Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None,
                     BlankIsAbsent] = None
    target_duration_minutes: Annotated[Integer | None, Field(ge=1, le=180)] = None
    visual_style: Annotated[str, BlankIsAbsent, StringConstraints(max_length=100)] = "cinematic"

    @model_validator(mode="after")
    def _mode_needs(self) -> ScriptLong:
        if self.mode == "from-outline" and not self.outline_id:
            raise ValueError("outlineId is required for from-outline mode")
        if self.mode == "auto" and not (self.topic and self.target_duration_minutes):
            raise ValueError("topic and targetDurationMinutes are required for auto mode")
        return self


class OutlineSectionEdit(Body):
    title: name_field(255)
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    target_minutes: Annotated[float, Field(gt=0, le=180, allow_inf_nan=False)] = 8
    key_points: list[Annotated[str, StringConstraints(max_length=500)]] = Field(default_factory=list, max_length=20)


class OutlineEdit(Body):
    title: Annotated[name_field(255) | None, BlankIsAbsent] = None
    sections: list[OutlineSectionEdit] | None = Field(default=None, min_length=1, max_length=MAX_SECTIONS)


class RegenerateSection(Body):
    section_index: Annotated[Integer, Field(ge=0)]


class AiExpand(Body):
    mode: Literal["quick", "guided"]
    prompt: Prompt = None
    sentence_count: Annotated[Integer, Field(ge=1, le=5)] = 2
    # null means "at the end" (the original refused null with a 400).
    insert_after_sentence_id: Annotated[Id | None, BlankIsAbsent] = None

    @model_validator(mode="after")
    def _guided_needs_prompt(self) -> AiExpand:
        if self.mode == "guided" and not self.prompt:
            raise ValueError("prompt is required for guided mode")
        return self


class DraftSentence(Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NOT_BLANK)]
    image_prompt: Prompt = None
    video_prompt: Prompt = None


class AiExpandAccept(Body):
    generated_sentences: list[DraftSentence] = Field(min_length=1, max_length=20)
    insert_after_sentence_id: Annotated[Id | None, BlankIsAbsent] = None


# --- sections and sentences ---------------------------------------------------------------------

class SectionCreate(Body):
    project_id: Id
    title: name_field(255)
    order: Annotated[Integer | None, Field(ge=0)] = None  # None: at the end


class SectionUpdate(Body):
    title: name_field(255)


class SectionsReorder(Body):
    project_id: Id
    section_ids: list[Id] = Field(max_length=MAX_SECTIONS * 4)


class SentencesReorder(Body):
    section_id: Id
    sentence_ids: list[Id] = Field(max_length=MAX_IDS)


class SentenceMove(Body):
    target_section_id: Id
    target_order: Annotated[Integer, Field(ge=0)]


class SentenceFields(Body):
    image_prompt: Prompt = None
    video_prompt: Prompt = None
    camera_movement: Camera | None = None
    motion_strength: Strength | None = None
    # Ours: the cast member who speaks this line (None: the narrator).
    speaker_id: Annotated[Id | None, BlankIsAbsent] = None


class SentenceCreate(SentenceFields):
    section_id: Id
    text: Text = ""  # may be "": a placeholder the user fills in later
    order: Annotated[Integer | None, Field(ge=0)] = None


class SentenceUpdate(SentenceFields):
    clearable: ClassVar[frozenset[str]] = frozenset({"image_prompt", "video_prompt", "speaker_id"})
    text: Text | None = None


# --- media ---------------------------------------------------------------------------------------

class ExportBody(Body):
    aspect: Literal["16:9", "9:16", "1:1"] = "16:9"
    captions: Flag = True
