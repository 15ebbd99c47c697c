"""The clips surface's request bodies and step payload models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from reelforge.fields import BlankIsAbsent, OptionalStr
from reelforge.projects.schemas import UploadBody


class ProcessOptions(BaseModel):
    """What a caller may tune about a clips job (all optional; "" from a form means absent)."""

    clip_count: Annotated[int | None, BlankIsAbsent] = Field(
        default=None, ge=1, le=15, description="target clips; auto if absent")
    min_duration: Annotated[float, BlankIsAbsent] = Field(default=15.0, ge=5.0, le=120.0)
    max_duration: Annotated[float, BlankIsAbsent] = Field(default=60.0, ge=10.0, le=180.0)
    language: OptionalStr = Field(default=None, pattern=r"^[a-z]{2,3}$")
    whisper_model: Annotated[Literal["base", "tiny.en"] | None, BlankIsAbsent] = None
    captions: Annotated[bool, BlankIsAbsent] = True

    @model_validator(mode="after")
    def _ordered(self) -> ProcessOptions:
        if self.min_duration >= self.max_duration:
            raise ValueError("min_duration must be less than max_duration")
        return self


class ProcessUrlBody(ProcessOptions):
    url: OptionalStr = Field(
        default=None, max_length=4096, description="YouTube or direct video link")


class ProcessUploadBody(UploadBody, ProcessOptions):
    pass


class ProviderChoice(BaseModel):
    name: Literal["local", "gemini"]
    sealed_key: str | None = None  # see keyseal: never the plain key


class Source(BaseModel):
    kind: Literal["upload", "url"]
    key: str | None = None
    url: str | None = None
