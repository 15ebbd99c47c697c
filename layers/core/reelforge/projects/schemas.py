"""Request bodies of the shared project routes."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from reelforge.fields import BlankIsAbsent, OptionalUrl, name_field

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
