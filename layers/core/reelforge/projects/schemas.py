"""Request bodies and answers of the shared project routes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reelforge.fields import BlankIsAbsent, OptionalUrl, name_field
from reelforge.models import MediaInfo

_MEDIA_TYPE = re.compile(r"^(video|audio)/[A-Za-z0-9][A-Za-z0-9.+-]{0,100}$")


class ProjectBody(BaseModel):
    """Seed 000's body; every field optional, "" meaning absent."""

    name: Annotated[name_field(200), BlankIsAbsent] = "Untitled project"
    description: Annotated[str, BlankIsAbsent] = Field(default="", max_length=5000)
    video_url: OptionalUrl = None


class UploadBody(BaseModel):
    file_name: str = Field(min_length=1, max_length=255)
    # the pattern documents the validator below (which also takes upper case and spaces around)
    content_type: str = Field(min_length=3, max_length=120, json_schema_extra={"pattern": _MEDIA_TYPE.pattern})

    @field_validator("content_type")
    @classmethod
    def _media_only(cls, v: str) -> str:
        v = v.strip().lower()
        if not _MEDIA_TYPE.match(v):
            raise ValueError("only video/* and audio/* content types can be uploaded")
        return v


# --- answers (documentation: api/openapi.answers) ---


class PresignedPut(BaseModel):
    """Where and how to PUT a file: S3 takes it directly, with exactly these headers."""

    upload_url: str = Field(description="a presigned S3 PUT URL; it expires")
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="send these with the PUT (the Content-Type it was signed for)")


class AssetUploadUrl(PresignedPut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "upload_url": "https://reelforge-media.s3.amazonaws.com/uploads/9b1e.../interview.mp4?X-Amz-Signature=...",
        "asset_id": "5d2c8f0a9e6b4c3d8a7f1e2b3c4d5e6f", "method": "PUT",
        "headers": {"Content-Type": "video/mp4"}, "status": "uploading"}]})

    asset_id: str
    status: Literal["uploading"] = Field(description="turns ready or failed once the file is stored and probed")


class MediaSize(BaseModel):
    """What AutoVio's assets (in the same project) record of their media."""

    width: int | None = None
    height: int | None = None
    duration: float | None = None


class UploadedAsset(BaseModel):
    # Open: AutoVio's assets live in the same project and add their own fields (kind, tags...).
    model_config = ConfigDict(extra="allow")

    id: str
    project_id: str
    file_name: str
    content_type: str | None = None
    s3_key: str
    status: Literal["uploading", "ready", "failed"]
    error: str | None = Field(default=None, description="why a failed upload is unusable")
    size_bytes: int | None = None
    media: MediaInfo | MediaSize | None = Field(default=None, description="what the probe found, once ready")
    created_at: str
    updated_at: str


PROJECT_EXAMPLE = {
    "id": "0f6e2d7c9b8a4e5f9d3c2b1a0e9f8d7c", "owner": "u-7c1f9e2a", "name": "Launch teaser",
    "description": "30 s cut of the keynote", "video_url": "https://cdn.example.com/keynote.mp4",
    "created_at": "2026-03-02T10:15:04.120Z", "updated_at": "2026-03-02T10:16:40.007Z"}


class ProjectRecord(BaseModel):
    """The project every seed shares, as GET /api/project lists it."""

    # Open: each surface keeps its own fields on the record (AutoVio's prompts, the studio's
    # topic, the editor's timeline), and they are sent as they are.
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [PROJECT_EXAMPLE]})

    id: str
    owner: str = Field(description="the owner's user id")
    name: str
    description: str
    video_url: str | None = Field(default=None, description="the video fetched when the project was created")
    created_at: str
    updated_at: str


class ProjectDetail(ProjectRecord):
    assets: list[UploadedAsset] = Field(description="its uploaded media")
    ingest_job_id: str | None = Field(default=None, description="on create with a video_url: the job fetching it")


_URL = "https://reelforge-media.s3.amazonaws.com/projects/0f6e2d7c/segments/a41c.mp4?X-Amz-Signature=..."
SEGMENT_EXAMPLE = {
    "id": "a41c2e9f7b6d4c1e8f0a3b2c1d0e9f8a", "project_id": "0f6e2d7c9b8a4e5f9d3c2b1a0e9f8d7c", "start_ts": 0.0,
    "end_ts": 4.5, "source": "original", "url": _URL, "variant_id": None, "order_index": 0, "active": True,
    "status": "ready", "error": None}


class Segment(BaseModel):
    """Seed 000's segment, with its render status."""

    model_config = ConfigDict(json_schema_extra={"examples": [SEGMENT_EXAMPLE]})

    id: str
    project_id: str
    start_ts: float = Field(description="seconds into its media where it starts playing")
    end_ts: float = Field(description="seconds into its media where it stops")
    source: Literal["original", "graded", "variant"] = Field(description="where its media came from")
    url: str | None = Field(description="its media (presigned GET); null until it is ready")
    variant_id: str | None = Field(description="the accepted variant it plays, if any")
    order_index: int = Field(description="its place on the timeline, from 0")
    active: bool
    status: Literal["ready", "rendering", "failed"]
    error: str | None = Field(description="why its render failed")


class TimelineProject(ProjectDetail):
    """A project as seed 000 shows it: its timeline, and what the editor keeps on it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **PROJECT_EXAMPLE, "assets": [], "segments": [SEGMENT_EXAMPLE], "duration": 4.5,
        "frame_width": 1920, "frame_height": 1080, "timeline_version": 1}]})

    segments: list[Segment] = Field(description="the timeline: its active segments in order")
    duration: float = Field(description="the timeline's length, seconds")
    frame_width: int | None = Field(default=None, description="the video's frame (pixels), once one is in")
    frame_height: int | None = None
    timeline_version: int | None = Field(default=None, description="bumped by every edit")
    timeline: list[str] | None = Field(default=None, description="the segments' ids in order")
    video_key: str | None = Field(default=None, description="the first video's S3 key")
    video_duration: float | None = Field(default=None, description="its length, seconds")
