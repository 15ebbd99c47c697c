"""The clips surface's request bodies, step payload models and answers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reelforge.fields import BlankIsAbsent, OptionalStr
from reelforge.media.captions import CaptionStyle
from reelforge.media.layouts import Aspect, LayoutChoice
from reelforge.projects.schemas import PresignedPut, UploadBody


class ProcessOptions(BaseModel):
    """What a caller may tune about a clips job (all optional; "" from a form means absent).

    The one definition of the options: the API's JSON and form fields and the CLI's flags
    (`reelforge process --help`) are all made from these fields."""

    clip_count: Annotated[int | None, BlankIsAbsent] = Field(
        default=None, ge=1, le=15, description="how many clips to make (1-15); chosen from the video if absent")
    min_duration: Annotated[float, BlankIsAbsent] = Field(
        default=15.0, ge=5.0, le=120.0, description="shortest clip, seconds")
    max_duration: Annotated[float, BlankIsAbsent] = Field(
        default=60.0, ge=10.0, le=180.0, description="longest clip, seconds")
    language: OptionalStr = Field(default=None, pattern=r"^[a-z]{2,3}$",
                                  description="spoken language (ISO 639-1, e.g. en); detected if absent")
    whisper_model: Annotated[Literal["base", "tiny.en"] | None, BlankIsAbsent] = Field(
        default=None, description="speech model: base (multilingual) or tiny.en (fast, English)")
    aspect: Annotated[Aspect, BlankIsAbsent] = Field(
        default="9:16", description="output shape: 9:16 (1080x1920), 1:1 (1080x1080), 16:9 (1920x1080)")
    layout: Annotated[LayoutChoice, BlankIsAbsent] = Field(
        default="auto", description="auto (chosen per shot), or focus, split or fit on every shot")
    captions: Annotated[bool, BlankIsAbsent] = Field(default=True, description="burn captions in")
    caption_style: Annotated[CaptionStyle, BlankIsAbsent] = Field(
        default="bold", description="bold (big words, 2-4 at a time), karaoke (a line, the spoken "
                                    "word lit) or minimal (small plain subtitles)")

    @model_validator(mode="after")
    def _ordered(self) -> ProcessOptions:
        if self.min_duration >= self.max_duration:
            raise ValueError("min_duration must be less than max_duration")
        return self


# A JSON body is validated strictly (true, not 1 or "yes"; 3, not "3"), as its OpenAPI
# says; a form's fields are all text and go through ProcessOptions as they are.
class ProcessUrlBody(ProcessOptions):
    model_config = ConfigDict(strict=True)

    url: OptionalStr = Field(
        default=None, max_length=4096, description="YouTube or direct video link")


class ProcessUploadBody(UploadBody, ProcessOptions):
    model_config = ConfigDict(strict=True)


class Source(BaseModel):
    kind: Literal["upload", "url"]
    key: str | None = None
    url: str | None = None


# --- answers (documentation: api/openapi.answers) ---


class ProcessJob(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "job_id": "550e8400e29b41d4a716446655440000", "status": "queued"}]})

    job_id: str = Field(description="poll GET /api/status/{job_id} or stream GET /api/progress/{job_id}")
    status: Literal["queued"]


class ProcessUpload(ProcessJob, PresignedPut):
    """The job waits for its file: it starts when the PUT lands."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "job_id": "550e8400e29b41d4a716446655440000", "status": "queued",
        "upload_url": "https://reelforge-media.s3.amazonaws.com/process-uploads/u-7c1f/550e.../talk.mp4"
                      "?X-Amz-Signature=...", "method": "PUT", "headers": {"Content-Type": "video/mp4"}}]})
