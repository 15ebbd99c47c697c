"""The editor surface's request bodies and answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reelforge.fields import Integer, Number
from reelforge.projects.schemas import SEGMENT_EXAMPLE, Segment


class SplitBody(BaseModel):
    split_ts: Number

class TrimBody(BaseModel):
    new_start_ts: Number = Field(ge=0)
    new_end_ts: Number = Field(gt=0)

class FrameBody(BaseModel):
    ts: Number = Field(ge=0)

class StripBody(BaseModel):
    start: Number = Field(ge=0)
    end: Number = Field(ge=0)
    fps: Number = Field(default=1.0, gt=0, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> StripBody:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self

class BoxBody(BaseModel):
    """Pixels of the project's video frame, from its top-left corner."""

    x: Number = Field(ge=0)
    y: Number = Field(ge=0)
    width: Number = Field(gt=0)
    height: Number = Field(gt=0)

class GenerateBody(BaseModel):
    project_id: str = Field(min_length=1, max_length=64)
    prompt: str = Field(min_length=1, max_length=2000)
    start_ts: Number = Field(ge=0)
    end_ts: Number = Field(gt=0)
    bounding_box: BoxBody
    variants: Integer = Field(default=3, ge=1, le=3)

class ExportBody(BaseModel):
    project_id: str = Field(min_length=1, max_length=64)
    format: Literal["mp4"] = "mp4"


# --- answers (documentation: api/openapi.answers) ---


class SplitSegments(BaseModel):
    left: Segment
    right: Segment


class Deleted(BaseModel):
    deleted: Literal[True]


class GradeJob(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "segment_id": "c90d4b1e2f3a4b5c6d7e8f9a0b1c2d3e", "graded_url": None, "status": "rendering",
        "job_id": "7e3b9d1c5a2f4e6b8d0c1a2b3c4d5e6f", "replaces": "a41c2e9f7b6d4c1e8f0a3b2c1d0e9f8a"}]})

    segment_id: str = Field(description="the graded segment, already on the timeline")
    graded_url: str | None = Field(description="null here: the job's graded_url (GET /api/job/{job_id}) once rendered")
    status: Literal["rendering"]
    job_id: str
    replaces: str = Field(description="the segment it took the place of")


class Frame(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "frame_url": "https://reelforge-media.s3.amazonaws.com/previews/0f6e2d7c/5b1a-frame.jpg?X-Amz-Signature=...",
        "timestamp": 2.5}]})

    frame_url: str = Field(description="a JPEG (presigned GET)")
    timestamp: float = Field(description="timeline seconds")


class FrameStrip(BaseModel):
    frames: list[Frame] = Field(description="in time order, `fps` a second")


class GradePreview(BaseModel):
    preview_frame_url: str = Field(description="the graded JPEG (presigned GET)")
    timestamp: float = Field(description="the segment's middle, seconds into its media")


class RegionEditJob(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "job_id": "7e3b9d1c5a2f4e6b8d0c1a2b3c4d5e6f", "id": "7e3b9d1c5a2f4e6b8d0c1a2b3c4d5e6f",
        "project_id": "0f6e2d7c9b8a4e5f9d3c2b1a0e9f8d7c", "status": "pending"}]})

    job_id: str = Field(description="follow it with GET /api/job/{job_id}; its variants come with it")
    id: str = Field(description="the same as job_id")
    project_id: str
    status: Literal["pending"]


class Variant(BaseModel):
    """One render of an AI region edit (a job's `variants`)."""

    id: str
    url: str = Field(description="the edited range (presigned GET)")
    preview_url: str = Field(description="a still of it (presigned GET)")
    label: str


class AcceptedVariant(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "accepted": True, "variant_id": "e2d1c0b9a8f74e6d5c4b3a2918070605",
        "segment": {**SEGMENT_EXAMPLE, "source": "variant", "variant_id": "e2d1c0b9a8f74e6d5c4b3a2918070605"}}]})

    accepted: Literal[True]
    variant_id: str
    segment: Segment = Field(description="the segment now playing it on the timeline")


class VariantScore(BaseModel):
    """Seed 000's score: editor.scoring.VariantScore (not imported here: scoring loads OpenCV)."""

    overall_rating: str = Field(description='"N/10 — why"')
    details: str
    fidelity_to_prompt: str = Field(description='"N/10 — why"')
    visual_quality: str = Field(description='"N/10 — why"')


class ScoredVariant(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "variant_id": "e2d1c0b9a8f74e6d5c4b3a2918070605", "score": {
            "overall_rating": "8/10 — the box is blurred and the rest is untouched",
            "details": "sharpness inside the box fell 71%; outside it changed 0.8/255",
            "fidelity_to_prompt": "8/10 — strong blur inside the box",
            "visual_quality": "9/10 — no clipping, no damage outside the box"}}]})

    variant_id: str
    score: VariantScore


class ExportStarted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "export_job_id": "4c8e2a6f0b1d4e3c9a7b5d2f1e0c8b6a", "status": "pending",
        "message": "Export job created — check status with get_export_status"}]})

    export_job_id: str = Field(description="follow it with GET /api/export/{export_job_id}")
    status: Literal["pending"]
    message: str
    # AutoVio's body (202) also gets these
    jobId: str | None = Field(default=None, description="AutoVio's name for export_job_id")
    statusUrl: str | None = Field(default=None, description="the path to follow it at")


class ExportStatus(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "export_job_id": "4c8e2a6f0b1d4e3c9a7b5d2f1e0c8b6a", "status": "completed",
        "export_url": "https://reelforge-media.s3.amazonaws.com/projects/0f6e2d7c/export.mp4?X-Amz-Signature=...",
        "download_url": "https://reelforge-media.s3.amazonaws.com/projects/0f6e2d7c/export.mp4?response-content-"
                        "disposition=attachment&X-Amz-Signature=...",
        "error": None, "progress": 100, "duration": 27.4}]})

    export_job_id: str
    status: Literal["pending", "running", "completed", "failed"]
    export_url: str | None = Field(description="the MP4 to play (presigned GET), once completed")
    download_url: str | None = Field(description="the same MP4 as an attachment, once completed")
    error: str | None
    progress: int = Field(ge=0, le=100, description="percent")
    duration: float | None = Field(default=None, description="seconds; once completed")
