"""AutoVio's bodies and data models (seed 001, CONTRACTS.md section 3), field names as the
contract spells them: camelCase for projects and works, snake_case for what the AI steps
exchange (AnalysisResult, UserIntent, ScenarioScene). Unknown keys are ignored (the original's
zod objects strip them); a form client's "" for an optional field means absent.

Ours, beside the contract's: every scenario scene carries a stable `id` (media are keyed by
it, so reordering scenes keeps each one's image and video) and may carry `camera_movement`;
an AnalysisResult may carry `notes` (what was measured, and how).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    model_validator,
)

from reelforge.fields import BLANK_SCHEMA, NOT_BLANK, BlankIsAbsent, Flag, Integer, name_field

Mode = Literal["style_transfer", "content_remix"]
ProjectType = Literal["blank", "saas", "news", "social", "ecommerce", "educational"]
Tempo = Literal["slow", "medium", "fast"]
SceneStatus = Literal["pending", "generating_image", "image_ready", "generating_video", "done", "error"]
AssetUsage = Literal["reference", "direct"]
# What the local video provider renders; the analysis names the same movements with spaces.
CAMERA_MOVEMENTS = ("static", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out")
Camera = Literal[CAMERA_MOVEMENTS]  # type: ignore[valid-type]

SceneId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Seconds = Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)]
MAX_SCENES = 60
MAX_PROMPT = 4000
MAX_TEXT = 20_000  # a project's systemPrompt or knowledge, a style-guide source text
MAX_LIST = 30
Short = Annotated[str, StringConstraints(max_length=500)]
Prompt = Annotated[str, StringConstraints(max_length=MAX_PROMPT)]
LongText = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
HexOrName = Annotated[str, StringConstraints(min_length=1, max_length=40)]


def _optional(kind: Any) -> Any:
    return Annotated[kind | None, BlankIsAbsent]


class Model(BaseModel):
    """Unknown keys are ignored; a null or "" optional field is absent."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _absent_blanks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            info = cls.model_fields.get(key)
            if info is not None and not info.is_required() and (
                    value is None or (isinstance(value, str) and not value.strip())):
                continue
            out[key] = value
        return out

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        """The OpenAPI says what the validator above does: an optional field takes null or ""."""
        json_schema = handler(schema)
        target = handler.resolve_ref_schema(json_schema)
        required = set(target.get("required", ()))
        for name, prop in target.get("properties", {}).items():
            if name not in required:
                outer = {k: prop.pop(k) for k in ("title", "default", "description") if k in prop}
                target["properties"][name] = {**outer, "anyOf": [prop, {"type": "null"}, BLANK_SCHEMA]}
        return json_schema


class Resolution(Model):
    # even: the validator below says why (multipleOf documents it without its message)
    width: Integer = Field(ge=64, le=4096, json_schema_extra={"multipleOf": 2})
    height: Integer = Field(ge=64, le=4096, json_schema_extra={"multipleOf": 2})

    @model_validator(mode="after")
    def _even(self) -> Resolution:
        if self.width % 2 or self.height % 2:
            raise ValueError("width and height must be even numbers (video frames are YUV 4:2:0)")
        return self


DEFAULT_RESOLUTION = Resolution(width=1080, height=1920)


class StyleGuide(Model):
    tone: _optional(Short) = None
    color_palette: Annotated[list[HexOrName], Field(max_length=MAX_LIST)] | None = None
    tempo: _optional(Short) = None
    camera_style: _optional(Short) = None
    brand_voice: _optional(Short) = None
    must_include: Annotated[list[Short], Field(max_length=MAX_LIST)] | None = None
    must_avoid: Annotated[list[Short], Field(max_length=MAX_LIST)] | None = None


class AnalysisScene(Model):
    index: Integer = Field(ge=0, le=10_000)
    duration_seconds: Seconds
    description: Annotated[str, StringConstraints(max_length=MAX_PROMPT)] = ""
    transition: Short = "cut"
    text_overlay: _optional(Short) = None
    camera_movement: _optional(Short) = None


class AnalysisResult(Model):
    scene_count: Integer = Field(ge=0, le=10_000)
    overall_tone: Annotated[str, StringConstraints(max_length=MAX_PROMPT)] = ""
    color_palette: Annotated[list[HexOrName], Field(max_length=MAX_LIST)] = []
    tempo: Short = "medium"
    has_text_overlay: Flag = False
    scenes: Annotated[list[AnalysisScene], Field(max_length=1000)] = []
    notes: Annotated[list[Annotated[str, StringConstraints(max_length=MAX_PROMPT)]], Field(max_length=40)] | None = None


class UserIntent(Model):
    mode: Mode = "style_transfer"
    product_name: _optional(Short) = None
    product_description: _optional(LongText) = None
    target_audience: _optional(Short) = None
    language: _optional(Annotated[str, StringConstraints(max_length=40)]) = None
    video_duration: _optional(Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)]) = None
    scene_count: _optional(Annotated[Integer, Field(ge=1, le=MAX_SCENES)]) = None


class ScenarioScene(Model):
    scene_index: Integer = Field(default=0, ge=0, le=10_000)
    duration_seconds: Seconds = 5.0
    image_prompt: Prompt = ""
    negative_prompt: Prompt = ""
    video_prompt: Prompt = ""
    text_overlay: _optional(Short) = None
    transition: Short = "cut"
    id: _optional(SceneId) = None
    camera_movement: _optional(Camera) = None


class GeneratedScene(BaseModel):
    """One scene's generation as the contract shows it (GeneratedSceneSnapshot), plus its id."""

    sceneIndex: Integer
    sceneId: str
    status: SceneStatus = "pending"
    imageUrl: str | None = None
    videoUrl: str | None = None
    error: str | None = None
    jobId: str | None = None


# --- request bodies --------------------------------------------------------------------------

ProjectName = name_field(200)


class ProjectBody(Model):
    """POST /api/projects: AutoVio's fields, plus seed 000's (`description`, `video_url`),
    since the plural path is the same resource as seed 000's /api/project."""

    name: Annotated[ProjectName, BlankIsAbsent] = "Untitled project"
    projectType: _optional(ProjectType) = None
    systemPrompt: LongText = ""
    knowledge: LongText = ""
    analyzerPrompt: _optional(LongText) = None
    imageSystemPrompt: _optional(LongText) = None
    videoSystemPrompt: _optional(LongText) = None
    styleGuide: StyleGuide | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    video_url: _optional(Annotated[str, StringConstraints(max_length=2048)]) = None


class ProjectPut(ProjectBody):
    """PUT /api/projects/:id: the whole project; `id` must be the path's."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]


WORK_FIELDS = ("name", "mode", "productName", "productDescription", "targetAudience", "language",
               "videoDuration", "sceneCount", "resolution")


class WorkBody(Model):
    """POST P/works."""

    name: Annotated[name_field(200), BlankIsAbsent] = "Untitled work"
    mode: Mode = "style_transfer"
    productName: Short = ""
    productDescription: LongText = ""
    targetAudience: Short = ""
    language: Annotated[str, StringConstraints(max_length=40)] = "en"
    videoDuration: _optional(Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)]) = None
    sceneCount: _optional(Annotated[Integer, Field(ge=1, le=MAX_SCENES)]) = None
    resolution: Resolution | None = None


class WorkPut(WorkBody):
    """PUT W: the whole WorkSnapshot. Server-kept fields (timestamps, `hasReferenceVideo`,
    `generatedScenes`, which the generation jobs own) are read-only and ignored."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    projectId: _optional(Annotated[str, StringConstraints(max_length=128)]) = None
    systemPrompt: LongText = ""
    analyzerPrompt: _optional(LongText) = None
    imageSystemPrompt: _optional(LongText) = None
    videoSystemPrompt: _optional(LongText) = None
    currentStep: Integer = Field(default=0, ge=0, le=4)
    analysis: AnalysisResult | None = None
    scenes: Annotated[list[ScenarioScene], Field(max_length=MAX_SCENES)] = []
    editorState: dict[str, Any] | None = None
    selectedAssetIds: Annotated[list[SceneId], Field(max_length=200)] | None = None
    assetUsageMode: _optional(AssetUsage) = None


class ScenarioRequest(Model):
    """POST /api/scenario."""

    analysis: AnalysisResult | None = None
    intent: UserIntent
    systemPrompt: _optional(LongText) = None
    knowledge: _optional(LongText) = None
    styleGuide: StyleGuide | None = None


class ImageRequest(Model):
    """POST /api/generate/image."""

    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT, pattern=NOT_BLANK)]
    negative_prompt: Prompt = ""
    image_instruction: _optional(LongText) = None
    styleGuide: StyleGuide | None = None
    resolution: Resolution | None = None


class VideoRequest(Model):
    """POST /api/generate/video. `image_url`: a data URL, this API's own media URL or an
    https URL (fetched through the SSRF-safe ingest)."""

    image_url: Annotated[str, StringConstraints(min_length=1, max_length=16 * 2**20)]
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT, pattern=NOT_BLANK)]
    duration: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] = 5
    video_instruction: _optional(LongText) = None
    styleGuide: StyleGuide | None = None
    resolution: Resolution | None = None
    camera_movement: _optional(Camera) = None


Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Coordinate = Annotated[float, Field(ge=-10_000, le=10_000, allow_inf_nan=False)]
Timing = Literal["relative", "absolute"]
TemplateId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ExportSettings(Model):
    width: Integer = Field(default=1080, ge=64, le=4096)
    height: Integer = Field(default=1920, ge=64, le=4096)
    fps: Integer = Field(default=30, ge=1, le=60)


class TimedOverlay(Model):
    """When an overlay shows: `relative` in percent (0-100) of the video's length, or
    `absolute` in seconds."""

    id: TemplateId
    centerX: Coordinate
    centerY: Coordinate
    timingMode: Timing = "relative"
    startPercent: Percent | None = None
    endPercent: Percent | None = None
    startSeconds: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] | None = None
    endSeconds: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] | None = None


class TemplateText(TimedOverlay):
    text: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    fontSize: Integer = Field(default=64, ge=4, le=600)
    fontColor: HexOrName = "#ffffff"
    fontAssetId: _optional(SceneId) = None


class TemplateImage(TimedOverlay):
    assetId: SceneId
    width: Annotated[float, Field(gt=0, le=8192, allow_inf_nan=False)]
    height: Annotated[float, Field(gt=0, le=8192, allow_inf_nan=False)]
    opacity: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    rotation: Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)] = 0.0
    maintainAspectRatio: Flag = True


class TemplateContent(Model):
    textOverlays: Annotated[list[TemplateText], Field(max_length=100)] = []
    imageOverlays: Annotated[list[TemplateImage], Field(max_length=100)] = []
    defaultTransition: _optional(Short) = None
    exportSettings: ExportSettings | None = None


class TemplateBody(Model):
    """POST P/templates."""

    name: name_field(200)
    description: _optional(Annotated[str, StringConstraints(max_length=2000)]) = None
    tags: Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=30)] | None = None
    content: TemplateContent


class TemplateChanges(Model):
    """PUT P/templates/:id: the fields given change."""

    name: _optional(name_field(200)) = None
    description: _optional(Annotated[str, StringConstraints(max_length=2000)]) = None
    tags: Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=30)] | None = None
    content: TemplateContent | None = None


Placeholders = Annotated[dict[Annotated[str, StringConstraints(min_length=1, max_length=100)],
                              Annotated[str, StringConstraints(max_length=1000)]], Field(max_length=100)]


class TemplateApply(Model):
    """POST P/templates/:id/apply."""

    videoDuration: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)]
    placeholderValues: Placeholders = {}


class WorkTemplateApply(Model):
    """POST W/apply-template."""

    templateId: TemplateId
    placeholderValues: Placeholders = {}


class WorksExport(Model):
    """POST /api/export for a work: `{projectId, workId}` exports its stored editorState; with
    the original's `clips` (and `texts`, `images`, `audio`, `options`) that timeline instead."""

    projectId: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    workId: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    clips: Annotated[list[dict[str, Any]], Field(max_length=500)] | None = None
    texts: Annotated[list[dict[str, Any]], Field(max_length=500)] | None = None
    images: Annotated[list[dict[str, Any]], Field(max_length=500)] | None = None
    audio: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class ExportPreview(Model):
    projectId: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    workId: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    t: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)]


class AssetChanges(Model):
    """PUT P/assets/:id: what changes."""

    name: _optional(Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]) = None
    tags: Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=30)] | None = None
    description: _optional(Annotated[str, StringConstraints(max_length=2000)]) = None


class AssetUpload(Model):
    """POST P/assets/upload-url: the file is PUT to the answer's URL, then checked."""

    file_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=NOT_BLANK)]
    name: _optional(Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]) = None
    description: _optional(Annotated[str, StringConstraints(max_length=2000)]) = None
    tags: Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=30)] | None = None


class AssetBatch(Model):
    assetIds: Annotated[list[SceneId], Field(min_length=1, max_length=100)]


class StyleGuideText(Model):
    # The route answers a missing or blank text with the contract's 400 `text is required`;
    # the OpenAPI says it is required.
    model_config = ConfigDict(extra="ignore", json_schema_extra={"required": ["text"]})
    text: Annotated[str, StringConstraints(max_length=100_000)] = Field("", json_schema_extra={"pattern": r"\S"})


class LandingRequest(Model):
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048, pattern=NOT_BLANK)]
    includeProductInfo: Flag = False
    mode: Literal["landing", "feature"] = "landing"


class ScenePrompt(BaseModel):
    """What generating one scene needs, as a step receives it."""

    scene_id: str
    scene_index: Integer
    image_prompt: str
    negative_prompt: str = ""
    video_prompt: str
    duration_seconds: float
    camera_movement: str | None = None
    text_overlay: str | None = None

