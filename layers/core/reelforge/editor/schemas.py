"""The editor surface's request bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from reelforge.fields import Integer, Number


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
