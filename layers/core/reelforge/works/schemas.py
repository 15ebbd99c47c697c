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
from reelforge.projects.schemas import PresignedPut, ProjectRecord, Segment, UploadedAsset

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
    status: SceneStatus
    imageUrl: str | None = Field(description="W/media/scene/{id}/image, once there is one")
    videoUrl: str | None = Field(description="W/media/scene/{id}/video, once there is one")
    error: str | None
    jobId: str | None = Field(description="the job generating it, or that last did")


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



# --- answers (documentation: api/openapi.answers) ---
# What the routes send, built as dicts (service.project_view, work_view, assets.view,
# templates.view/meta/apply...). Timestamps are epoch ms, as in the contract.

EpochMs = Annotated[int, Field(description="epoch ms")]
AssetKind = Literal["image", "video", "audio", "font"]


class JobAccepted(BaseModel):
    """202: the work goes on as a job; GET `statusUrl` (or the SSE `progressUrl`) follows it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "jobId": "3f0c9a6e2b7d4e1f", "status": "queued", "statusUrl": "/api/job/3f0c9a6e2b7d4e1f",
        "progressUrl": "/api/progress/3f0c9a6e2b7d4e1f"}]})
    jobId: str
    status: Literal["queued", "running"]
    statusUrl: str = Field(description="GET /api/job/{jobId}")
    progressUrl: str = Field(description="GET /api/progress/{jobId}: server-sent events")


class SceneTarget(BaseModel):
    """A scene being generated, and the URLs its media will have (W/media/scene/...)."""

    sceneIndex: int = Field(description="0-based position in the work's scenes")
    sceneId: str
    imageUrl: str
    videoUrl: str


class SceneJob(JobAccepted, SceneTarget):
    """POST W/generate/scene/{scene_ref}."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "jobId": "3f0c9a6e2b7d4e1f", "status": "queued", "statusUrl": "/api/job/3f0c9a6e2b7d4e1f",
        "progressUrl": "/api/progress/3f0c9a6e2b7d4e1f", "sceneIndex": 0, "sceneId": "scn_8d2a61f0c3b4",
        "imageUrl": "/api/projects/proj_a1/works/work_b2/media/scene/scn_8d2a61f0c3b4/image",
        "videoUrl": "/api/projects/proj_a1/works/work_b2/media/scene/scn_8d2a61f0c3b4/video"}]})


class ScenesJob(JobAccepted):
    """POST W/generate/scenes: the scenes this job claimed (not those generated already)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "jobId": "3f0c9a6e2b7d4e1f", "status": "queued", "statusUrl": "/api/job/3f0c9a6e2b7d4e1f",
        "progressUrl": "/api/progress/3f0c9a6e2b7d4e1f", "scenes": [{
            "sceneIndex": 0, "sceneId": "scn_8d2a61f0c3b4",
            "imageUrl": "/api/projects/proj_a1/works/work_b2/media/scene/scn_8d2a61f0c3b4/image",
            "videoUrl": "/api/projects/proj_a1/works/work_b2/media/scene/scn_8d2a61f0c3b4/video"}]}]})

    scenes: list[SceneTarget]


class AnalysisSceneView(BaseModel):
    index: int
    duration_seconds: float
    description: str
    transition: str
    text_overlay: str | None = None
    camera_movement: str | None = None


class Analysis(BaseModel):
    """AnalysisResult, as the analysis step (or the client's PUT) stored it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "scene_count": 2, "overall_tone": "energetic", "color_palette": ["#0f172a", "#f97316"],
        "tempo": "fast", "has_text_overlay": True,
        "scenes": [{"index": 0, "duration_seconds": 2.5, "description": "A phone on a desk", "transition": "cut",
                    "camera_movement": "zoom in"},
                   {"index": 1, "duration_seconds": 3.0, "description": "The app's dashboard", "transition": "fade",
                    "text_overlay": "Ship faster"}]}]})
    scene_count: int
    overall_tone: str
    color_palette: list[str]
    tempo: str
    has_text_overlay: bool
    scenes: list[AnalysisSceneView]
    notes: list[str] | None = Field(default=None, description="what was measured, and how")


class DraftScene(BaseModel):
    """A scenario scene as POST /api/scenario writes it (nothing is stored)."""

    scene_index: int = Field(description="0-based")
    duration_seconds: float
    image_prompt: str
    negative_prompt: str
    video_prompt: str
    transition: str
    text_overlay: str | None = None
    camera_movement: Camera | None = None


class WorkScene(DraftScene):
    """A scene of a work's scenario: its `id` keys its media and generation."""

    id: str


class Scenario(BaseModel):
    scenes: list[DraftScene]


class WorkScenario(BaseModel):
    scenes: list[WorkScene] = Field(description="saved on the work, every scene with a new id")


class GeneratedImage(BaseModel):
    imageUrl: str = Field(description="a presigned URL of the stored picture")
    note: str | None = Field(default=None, description="e.g. that the local provider drew a card")


class GeneratedVideo(BaseModel):
    videoUrl: str = Field(description="a presigned URL of the stored video")


class StyleGuideView(BaseModel):
    """A StyleGuide as stored or extracted: only the fields it has."""

    tone: str | None = None
    color_palette: list[str] | None = None
    tempo: str | None = None
    camera_style: str | None = None
    brand_voice: str | None = None
    must_include: list[str] | None = None
    must_avoid: list[str] | None = None


class AutoVioProject(ProjectRecord):
    """AutoVio's Project, on the record every seed shares (open: see ProjectRecord), with
    seed 000's view of it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "proj_a1b2c3", "userId": "u_5e1f", "name": "Spring launch", "createdAt": 1764648676000,
        "updatedAt": 1764648702000, "systemPrompt": "", "knowledge": "Acme ships task boards for teams.",
        "projectType": "saas", "styleGuide": {"tone": "confident", "color_palette": ["#0f172a", "#f97316"]},
        "owner": "u_5e1f", "description": "", "video_url": None, "created_at": "2026-12-02T04:11:16Z",
        "updated_at": "2026-12-02T04:11:42Z", "segments": [], "duration": 0}]})
    userId: str = Field(description="the same as owner")
    createdAt: EpochMs
    updatedAt: EpochMs
    systemPrompt: str
    knowledge: str
    projectType: ProjectType | None = Field(default=None, description="null once a PUT cleared it")
    analyzerPrompt: str | None = None
    imageSystemPrompt: str | None = None
    videoSystemPrompt: str | None = None
    styleGuide: StyleGuideView | None = None
    segments: list[Segment] = Field(description="seed 000's timeline: its active segments in order")
    duration: float = Field(description="seed 000's timeline length, seconds")
    ingest_job_id: str | None = Field(default=None, description="POST with a video_url: the job fetching it")


class AutoVioProjectWithAssets(AutoVioProject):
    """GET /api/projects/{id}: the project and its stored assets."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "proj_a1b2c3", "userId": "u_5e1f", "name": "Spring launch", "createdAt": 1764648676000,
        "updatedAt": 1764648702000, "systemPrompt": "", "knowledge": "", "owner": "u_5e1f", "description": "",
        "created_at": "2026-12-02T04:11:16Z", "updated_at": "2026-12-02T04:11:42Z", "segments": [], "duration": 0,
        "assets": [{"id": "asset_4c1e9a2b7d30", "project_id": "proj_a1b2c3", "file_name": "logo.png",
                    "content_type": "image/png", "s3_key": "projects/proj_a1b2c3/assets/asset_4c1e9a2b7d30/logo.png",
                    "status": "ready", "size_bytes": 48213, "media": {"width": 512, "height": 512},
                    "created_at": "2026-12-02T04:11:30Z", "updated_at": "2026-12-02T04:11:30Z",
                    "kind": "image", "name": "logo", "tags": ["brand"]}]}]})

    assets: list[UploadedAsset]


class WorkSummary(BaseModel):
    id: str
    projectId: str
    name: str
    createdAt: EpochMs
    updatedAt: EpochMs


class Work(BaseModel):
    """AutoVio's WorkSnapshot, with each scene's generation and this API's media URLs."""

    # (FastAPI drops nulls from the document's examples: this one has none where one is required)
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "work_8f2c1d", "projectId": "proj_a1b2c3", "name": "Launch teaser", "createdAt": 1764648676000,
        "updatedAt": 1764648702000, "systemPrompt": "", "currentStep": 1, "hasReferenceVideo": True,
        "mode": "style_transfer", "productName": "Acme Boards", "productDescription": "Task boards for teams",
        "targetAudience": "startup teams", "language": "en",
        "analysis": {"scene_count": 1, "overall_tone": "energetic", "color_palette": ["#0f172a"], "tempo": "fast",
                     "has_text_overlay": False, "scenes": [{"index": 0, "duration_seconds": 4.0,
                                                             "description": "A phone on a desk",
                                                             "transition": "cut"}]},
        "scenes": [], "generatedScenes": [], "resolution": {"width": 1080, "height": 1920},
        "referenceVideoUrl": "/api/projects/proj_a1b2c3/works/work_8f2c1d/media/reference"}]})
    id: str
    projectId: str
    name: str
    createdAt: EpochMs
    updatedAt: EpochMs
    systemPrompt: str
    currentStep: int = Field(ge=0, le=4)
    hasReferenceVideo: bool
    mode: Mode
    productName: str
    productDescription: str
    targetAudience: str
    language: str
    analysis: Analysis | None
    scenes: list[WorkScene]
    generatedScenes: list[GeneratedScene] = Field(description="one per scene, in the scenes' order")
    analyzerPrompt: str | None = None
    imageSystemPrompt: str | None = None
    videoSystemPrompt: str | None = None
    videoDuration: float | None = None
    sceneCount: int | None = None
    # the editor's state as the client saved it (EditorStateSnapshot): the client's own keys
    editorState: dict[str, Any] | None = None
    selectedAssetIds: list[str] | None = None
    assetUsageMode: AssetUsage | None = None
    resolution: Resolution | None = None
    audioUrl: str | None = Field(default=None, description="W/media/audio, once uploaded")
    referenceVideoUrl: str | None = Field(default=None, description="W/media/reference, once uploaded")
    referenceUploadError: str | None = Field(default=None, description="why a presigned reference was refused")


class WorkTemplateApplication(BaseModel):
    pendingPlaceholders: list[str] = Field(description="placeholder keys no value was given for")
    missingAssetIds: list[str] = Field(description="image overlays left out: their asset is gone")
    videoDuration: float = Field(description="the work's timeline length the overlays were timed on, seconds")


class AppliedWork(Work):
    """POST W/apply-template: the saved work, and what the template left pending."""

    model_config = ConfigDict(json_schema_extra={})  # not Work's example

    templateApplication: WorkTemplateApplication


class MediaStored(BaseModel):
    ok: Literal[True]
    url: str = Field(description="where the file is served (GET)")


class AudioStored(BaseModel):
    ok: Literal[True]
    audioUrl: str = Field(description="where the file is served (GET)")


class UploadTarget(PresignedPut):
    """PUT the file to `upload_url` with these headers; it is checked when it lands."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "upload_url": "https://reelforge-media.s3.amazonaws.com/works-uploads/u_5e1f/proj_a1b2c3/work_8f2c1d/"
                      "reference?X-Amz-Signature=...", "method": "PUT",
        "headers": {"Content-Type": "application/octet-stream"}, "maxBytes": 524288000}]})
    maxBytes: int = Field(description="the most the file may have, bytes")


class Asset(BaseModel):
    """AutoVio's ProjectAsset, with this API's `url` (and `thumbnail`'s)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "asset_4c1e9a2b7d30", "name": "logo", "status": "ready", "type": "image", "filename": "logo.png",
        "mimeType": "image/png", "size": 48213, "createdAt": 1764648676000, "updatedAt": 1764648676000,
        "url": "/api/projects/proj_a1b2c3/assets/asset_4c1e9a2b7d30", "width": 512, "height": 512,
        "tags": ["brand"], "thumbnail": "/api/projects/proj_a1b2c3/assets/asset_4c1e9a2b7d30/thumbnail"}]})
    id: str
    name: str
    status: Literal["uploading", "ready", "failed"]
    type: AssetKind
    filename: str
    mimeType: str | None = Field(description="null while a presigned upload is awaited")
    size: int = Field(description="bytes")
    createdAt: EpochMs
    updatedAt: EpochMs
    url: str
    width: int | None = None
    height: int | None = None
    duration: float | None = Field(default=None, description="seconds")
    tags: list[str] | None = None
    description: str | None = None
    error: str | None = Field(default=None, description="why a presigned upload failed")
    thumbnail: str | None = None


class PendingAsset(Asset, UploadTarget):
    """POST P/assets/upload-url: the asset, `uploading` until its file lands."""

    model_config = ConfigDict(json_schema_extra={})  # not Asset's example (its mimeType is null)


class Assets(BaseModel):
    assets: list[Asset]
    totalSize: int = Field(description="bytes")
    count: int


class AssetDescription(BaseModel):
    assetId: str
    description: str


class AssetFailure(BaseModel):
    assetId: str
    error: str


class AssetDescriptions(BaseModel):
    results: list[AssetDescription | AssetFailure]


class Template(BaseModel):
    """AutoVio's EditorTemplate."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "tmpl_9b3e27c1d0aa", "projectId": "proj_a1b2c3", "name": "Lower third", "createdAt": 1764648676000,
        "updatedAt": 1764648676000, "tags": ["intro"], "content": {
            "textOverlays": [{"id": "title", "text": "{{product}}", "fontSize": 64, "fontColor": "#ffffff",
                              "centerX": 540, "centerY": 1600, "timingMode": "relative",
                              "startPercent": 0, "endPercent": 30}],
            "imageOverlays": []}}]})
    id: str
    projectId: str
    name: str
    createdAt: EpochMs
    updatedAt: EpochMs
    content: TemplateContent
    description: str | None = None
    tags: list[str] | None = None
    thumbnail: str | None = None


class TemplateMeta(BaseModel):
    """EditorTemplateMeta: the template without its content, with counts."""

    id: str
    projectId: str
    name: str
    createdAt: EpochMs
    updatedAt: EpochMs
    description: str | None = None
    tags: list[str] | None = None
    thumbnail: str | None = None
    textOverlayCount: int
    imageOverlayCount: int
    hasExportSettings: bool


class Templates(BaseModel):
    templates: list[TemplateMeta]
    count: int


class AppliedText(BaseModel):
    text: str = Field(description="placeholders filled; an unfilled one stays `{{key}}`")
    fontSize: int
    fontColor: str
    centerX: float
    centerY: float
    fontAssetId: str | None = None
    pending: list[str] | None = Field(default=None, description="its placeholders no value was given for")


class AppliedImage(BaseModel):
    assetId: str
    width: float
    height: float
    centerX: float
    centerY: float
    opacity: float
    rotation: float
    maintainAspectRatio: bool


class TrackEntry(BaseModel):
    id: str = Field(description="the overlay's id (`applied_` + the template's)")
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")


class TemplateApplication(BaseModel):
    """TemplateApplicationResult: the overlays as editor-state pieces, timed for `videoDuration`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "textOverlays": {"applied_title": {"text": "Acme Boards", "fontSize": 64, "fontColor": "#ffffff",
                                           "centerX": 540, "centerY": 1600}},
        "imageOverlays": {}, "textTrack": [{"id": "applied_title", "start": 0.0, "end": 4.5}], "imageTrack": [],
        "videoDuration": 15.0, "pendingPlaceholders": [], "missingAssetIds": []}]})
    textOverlays: dict[str, AppliedText]
    imageOverlays: dict[str, AppliedImage]
    textTrack: list[TrackEntry]
    imageTrack: list[TrackEntry]
    videoDuration: float
    pendingPlaceholders: list[str]
    missingAssetIds: list[str] = Field(description="image overlays left out: their asset is gone")
    defaultTransition: str | None = None
    exportSettings: ExportSettings | None = None


class ExtractedStyleGuide(BaseModel):
    styleGuide: StyleGuideView


class ProductInfo(BaseModel):
    name: str
    description: str
    targetAudience: str | None = None
    features: list[str] | None = Field(default=None, description="the local provider's: the page's headings")


class LandingStyle(BaseModel):
    """POST /api/style-guide/extract-from-landing: `styleGuide` is {} in the feature mode."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "styleGuide": {"tone": "confident, friendly", "color_palette": ["#0f172a", "#f97316"],
                       "brand_voice": "as the page writes it: \"Ship faster\""},
        "productInfo": {"name": "Acme", "description": "Task boards for teams that ship."}}]})
    styleGuide: StyleGuideView
    productInfo: ProductInfo | None = Field(default=None, description="with includeProductInfo, or the feature mode")
    notes: list[str] | None = Field(default=None, description="how the local provider read the page")


class ProviderModel(BaseModel):
    id: str
    name: str
    description: str | None = None


class Provider(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "gemini", "name": "Google Gemini", "category": "llm", "description": "Gemini models",
        "models": [{"id": "gemini-2.5-flash", "name": "Gemini 2.5 Flash"}], "usable": False, "needsKey": True,
        "usableWhen": "the request carries a gemini key (x-llm-api-key or x-api-key)"}]})
    id: str
    name: str
    category: Literal["vision", "llm", "image", "video"]
    description: str
    models: list[ProviderModel]
    usable: bool = Field(description="usable here without a key in the request")
    needsKey: bool
    usableWhen: str
