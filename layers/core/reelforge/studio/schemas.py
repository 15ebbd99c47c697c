"""Request bodies of the script studio (seed 004, `/api/v1`): camelCase JSON, the contract's
limits and defaults. Unknown keys are ignored (the original's zod objects strip them); a form
client's "" for an optional field means absent."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

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


# --- answers (documentation: api/openapi.answers) ---

T = TypeVar("T")
JobType = Literal["script", "script-long", "audio", "image", "video", "video-batch", "export"]
MediaJobType = Literal["audio", "image", "video", "video-batch", "export"]
JobStatus = Literal["queued", "running", "completed", "failed"]
Timestamp = Annotated[str, Field(description="ISO 8601")]


class Answer(BaseModel, Generic[T]):
    """The studio's success envelope (api/envelope.ok) around `data`."""

    success: Literal[True]
    data: T


class NotedAnswer(Answer[T], Generic[T]):
    """The envelope of the routes that also say what they did."""

    message: str = Field(description="what was done, for a person")


class Done(BaseModel):
    """A success with no data (the reorders)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"success": True, "message": "Sections reordered successfully"}]})
    success: Literal[True]
    message: str


class StudioHealth(BaseModel):
    status: Literal["healthy"]
    timestamp: Timestamp
    version: str
    database: Literal["connected"]


class ImageModel(BaseModel):
    id: str
    name: str
    provider: Literal["auto", "local", "gemini"]
    kind: Literal["image"]
    description: str


class Models(BaseModel):
    models: list[ImageModel]
    default: str = Field(description="the model id a project gets when it names none")


class Style(BaseModel):
    id: str
    name: str
    prompt: str = Field(description="the words added to every image prompt")
    tone: str = Field(description="the designed card's palette tone")


class Styles(BaseModel):
    styles: list[Style]
    default: str = Field(description="the style id a project gets when it names none")


class Voice(BaseModel):
    id: str
    name: str
    language: str
    provider: Literal["piper", "espeak"]


class Voices(BaseModel):
    voices: list[Voice]
    default: str = Field(description="the voice id of a project or speaker that names none")


class Export(BaseModel):
    """The project's last exported video."""

    videoUrl: str = Field(description="presigned URL of the MP4")
    duration: float = Field(description="seconds")
    exportedAt: Timestamp


PROJECT_EXAMPLE = {
    "id": "0b7f3c2a9d4e4c1f", "name": "The history of tea", "topic": "How tea conquered the world",
    "targetDuration": 8, "modelId": "auto", "styleId": "cinematic", "visualStyle": "cinematic",
    "voiceId": "piper-en_US-lessac-medium", "status": "ready", "hasSourceText": False,
    "createdAt": "2026-03-02T10:15:00Z", "updatedAt": "2026-03-02T10:21:40Z"}


class Project(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PROJECT_EXAMPLE]})
    id: str
    name: str
    topic: str | None
    targetDuration: int = Field(description="minutes")
    modelId: str
    styleId: str
    visualStyle: str
    voiceId: str = Field(description="the narrator's voice (the default one when the project names none)")
    status: Literal["draft", "generating", "ready"]
    hasSourceText: bool = Field(description="whether the script is written from the user's own text")
    createdAt: Timestamp
    updatedAt: Timestamp
    export: Export | None = Field(default=None, description="present once the project was exported")


class ProjectSummary(Project):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {**PROJECT_EXAMPLE, "sectionCount": 4, "sentenceCount": 38}]})
    sectionCount: int
    sentenceCount: int


class Projects(BaseModel):
    projects: list[ProjectSummary] = Field(description="most recently updated first")


class Character(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "c4a1e7d2b9f04a3e", "name": "Ada", "description": "A curious engineer in her thirties",
        "referenceImages": ["https://example.com/ada.png"], "uploadedImages": 0, "styleLora": None,
        "voiceId": None, "createdAt": "2026-03-02T10:15:00Z", "updatedAt": "2026-03-02T10:15:00Z"}]})
    id: str
    name: str
    description: str | None
    referenceImages: list[str] = Field(description="linked URLs, then the uploaded images (presigned URLs)")
    uploadedImages: int = Field(description="how many of referenceImages were uploaded (DELETE .../images/{index})")
    styleLora: str | None
    voiceId: str | None = Field(description="the voice of the lines this character speaks")
    createdAt: Timestamp
    updatedAt: Timestamp


class CastBatchResult(BaseModel):
    added: list[str] = Field(description="character ids added to the cast")
    skipped: list[str] = Field(description="ids unknown, not the caller's, or already in the cast")


class WordTiming(BaseModel):
    word: str
    startMs: int
    endMs: int
    probability: float


class Sentence(BaseModel):
    """A line of the script; fields it has no value for are left out."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "5e2d8c1a7b3f4e90", "sectionId": "9a3c5e7b1d2f4a68", "text": "Tea began as a medicine.",
        "order": 0, "imagePrompt": "ancient Chinese herbalist brewing leaves", "cameraMovement": "zoom_in",
        "motionStrength": 0.5, "isAudioDirty": False, "isImageDirty": False, "isVideoDirty": True,
        "status": "pending", "audioDuration": 2140, "audioUrl": "https://bucket.s3.amazonaws.com/...",
        "createdAt": "2026-03-02T10:16:02Z", "updatedAt": "2026-03-02T10:18:30Z"}]})
    id: str
    sectionId: str
    text: str
    order: int = Field(description="position in its section (0-based, dense)")
    imagePrompt: str | None = None
    videoPrompt: str | None = None
    cameraMovement: Camera
    motionStrength: float = Field(description="0-1")
    speakerId: str | None = Field(default=None, description="the cast member who speaks it (absent: the narrator)")
    isAudioDirty: bool = Field(description="the audio must be made again")
    isImageDirty: bool = Field(description="the image must be made again")
    isVideoDirty: bool = Field(description="the video must be made again")
    status: Literal["pending", "generating", "completed", "failed"]
    error: str | None = Field(default=None, description="why its last media job failed")
    audioFile: str | None = Field(default=None, description="storage key of the narration")
    audioDuration: int | None = Field(default=None, description="milliseconds")
    audioVoice: str | None = None
    wordTimings: list[WordTiming] | None = None
    audioStartMs: int | None = Field(default=None, description="where its audio starts in the exported video")
    audioEndMs: int | None = None
    imageFile: str | None = Field(default=None, description="storage key of the image")
    imageNote: str | None = Field(default=None, description="how the image was made where not as asked")
    videoFile: str | None = Field(default=None, description="storage key of the clip")
    videoFrames: int | None = None
    audioUrl: str | None = Field(default=None, description="presigned URL")
    imageUrl: str | None = Field(default=None, description="presigned URL")
    videoUrl: str | None = Field(default=None, description="presigned URL")
    createdAt: Timestamp
    updatedAt: Timestamp


class SectionInfo(BaseModel):
    id: str
    projectId: str
    title: str
    order: int = Field(description="position in the project (0-based, dense)")
    createdAt: Timestamp
    updatedAt: Timestamp


class Section(SectionInfo):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "9a3c5e7b1d2f4a68", "projectId": "0b7f3c2a9d4e4c1f", "title": "Origins", "order": 0,
        "createdAt": "2026-03-02T10:16:02Z", "updatedAt": "2026-03-02T10:16:02Z", "sentences": []}]})
    sentences: list[Sentence] = Field(description="in order")


class FullProject(Project):
    model_config = ConfigDict(json_schema_extra={"examples": [{**PROJECT_EXAMPLE, "sections": [], "cast": []}]})
    sections: list[Section] = Field(description="in order")
    cast: list[Character]
    sourceText: str | None = Field(default=None, description="present when the project has one")


class WrittenSection(BaseModel):
    id: str
    title: str
    sentenceCount: int


class QuickScript(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "The history of tea", "sections": [{"id": "9a3c5e7b1d2f4a68", "title": "Origins", "sentenceCount": 6}],
        "totalSentences": 6, "estimatedDurationMinutes": 0.6}]})
    title: str
    sections: list[WrittenSection]
    totalSentences: int
    estimatedDurationMinutes: float
    note: str | None = Field(default=None, description="what the writer could not do as asked")


class PlannedSection(BaseModel):
    """A section of an outline."""

    index: int
    title: str
    description: str
    targetMinutes: float
    keyPoints: list[str]
    status: Literal["pending", "generating", "completed", "failed"]
    sectionId: str | None = Field(default=None, description="the script section written for it")


class NewOutline(BaseModel):
    outlineId: str
    title: str
    totalTargetMinutes: float
    sections: list[PlannedSection]
    note: str | None = Field(default=None, description="what the writer could not do as asked")


class Outline(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "7d1e3b5a9c2f4e80", "projectId": "0b7f3c2a9d4e4c1f", "title": "The history of tea",
        "topic": "How tea conquered the world", "visualStyle": "cinematic", "totalTargetMinutes": 16,
        "sections": [{"index": 0, "title": "Origins", "description": "Legends and first uses", "targetMinutes": 8,
                      "keyPoints": ["Shennong", "medicine"], "status": "pending"}],
        "status": "draft", "runningSummary": "", "coveredTopics": [], "currentSectionIndex": 0,
        "createdAt": "2026-03-02T10:15:30Z", "updatedAt": "2026-03-02T10:15:30Z"}]})
    id: str
    projectId: str
    title: str
    topic: str
    visualStyle: str
    totalTargetMinutes: float
    sections: list[PlannedSection]
    status: Literal["draft", "approved", "generating", "completed", "failed"]
    runningSummary: str = Field(description="what the sections written so far said")
    coveredTopics: list[str]
    currentSectionIndex: int
    note: str | None = Field(default=None, description="what the writer could not do as asked")
    createdAt: Timestamp
    updatedAt: Timestamp


class RegeneratedSection(BaseModel):
    sectionIndex: int
    sectionTitle: str
    sentenceCount: int
    durationMinutes: float


class SuggestedSentence(BaseModel):
    text: str
    imagePrompt: str
    videoPrompt: str


class Expansion(BaseModel):
    """Suggestions only: POST .../ai-expand/accept saves them."""

    sectionId: str
    sectionTitle: str
    insertPosition: int = Field(description="the order the first one would get")
    generatedSentences: list[SuggestedSentence]
    note: str | None = Field(default=None, description="the local writer: how many lines are generic")


class Inserted(BaseModel):
    sectionId: str
    insertedCount: int
    sentences: list[Sentence]


class ShortScriptQueued(BaseModel):
    jobId: str
    status: Literal["queued"]
    message: str
    estimatedDurationSeconds: int


class LongScriptQueued(BaseModel):
    jobId: str
    status: Literal["queued"]
    outlineId: str
    totalSections: int
    estimatedDurationSeconds: int


class MediaQueued(BaseModel):
    jobId: str
    status: Literal["queued"]
    jobType: MediaJobType


class ScriptResult(BaseModel):
    """A script job's result."""

    sections: int
    sentences: int
    durationMinutes: float
    note: str | None = None


class Rebuilt(BaseModel):
    audio: list[str] = Field(description="sentence ids")
    image: list[str] = Field(description="sentence ids")
    video: list[str] = Field(description="sentence ids")


class MediaResult(BaseModel):
    """A media or export job's result."""

    rebuilt: Rebuilt
    sentences: int = Field(description="sentences with text in the job's scope")
    reused: int = Field(description="of those, how many needed nothing made")
    notes: list[str]
    skipped: list[str] | None = Field(default=None, description="sentences deleted while the job ran")
    key: str | None = Field(default=None, description="storage key of the file made")
    duration: float | None = Field(default=None, description="seconds")
    file: str | None = Field(default=None, description="presigned URL of the file made")


class Job(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "e8b2c4d6f1a34b57", "projectId": "0b7f3c2a9d4e4c1f", "sentenceId": None, "outlineId": None,
        "jobType": "export", "status": "running", "progress": 40, "message": "Sentence 2/5: video ready",
        "errorMessage": None, "resultFile": None, "result": None, "totalSteps": 5, "currentStep": 2,
        "stepName": "video", "startedAt": "2026-03-02T10:20:01Z", "completedAt": None,
        "createdAt": "2026-03-02T10:20:00Z"}]})
    id: str
    projectId: str | None
    sentenceId: str | None
    outlineId: str | None
    jobType: JobType
    status: JobStatus
    progress: int = Field(description="0-100")
    message: str | None
    errorMessage: str | None
    resultFile: str | None = Field(description="presigned URL of what a media job made")
    result: ScriptResult | MediaResult | None
    totalSteps: int | None
    currentStep: int | None
    stepName: str | None
    startedAt: Timestamp | None
    completedAt: Timestamp | None
    createdAt: Timestamp
