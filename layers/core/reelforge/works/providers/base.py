"""What a works provider does, role by role (AutoVio's provider headers name the roles):

- ``vision``  ``Vision.analyze``: a reference video -> AnalysisResult;
- ``llm``     ``Writer.scenario`` / ``style_guide`` / ``landing``: scenes and style guides;
- ``image``   ``ImageMaker.image``: one scene picture;
- ``video``   ``VideoMaker.start`` then ``poll``: image-to-video, a long-running operation
  that the works state machine polls with Wait states (the local provider renders at once
  and answers ``done``).

A provider module builds these from a ``Call``: which provider and model, the plain key
(only ever in memory, inside the request or step that uses it) and the vendor's base URL
(the tests point it at a fake server on loopback).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reelforge.ai.vendor import TaskState
from reelforge.works.schemas import (
    AnalysisResult,
    Resolution,
    ScenarioScene,
    StyleGuide,
    UserIntent,
)

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Call:
    provider: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None

    def __repr__(self) -> str:  # the key stays out of logs and tracebacks
        return f"Call(provider={self.provider!r}, model={self.model!r})"


@dataclass(frozen=True)
class ScenarioBrief:
    """Everything a scenario is written from."""

    intent: UserIntent
    analysis: AnalysisResult | None = None
    system_prompt: str = ""
    knowledge: str = ""
    style_guide: StyleGuide | None = None
    image_system_prompt: str = ""
    video_system_prompt: str = ""
    # direct asset mode: one scene per selected asset, described by these texts
    asset_descriptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LandingPage:
    """A fetched landing page, parsed: what a style guide can be read from."""

    url: str
    title: str = ""
    description: str = ""
    headings: tuple[str, ...] = ()
    text: str = ""  # visible body text, whitespace collapsed, at most ~20k characters
    colors: tuple[str, ...] = ()  # hex colours named in the page's CSS / theme-color, most used first
    fonts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageJob:
    prompt: str
    negative_prompt: str = ""
    instruction: str = ""  # the project's / work's image system prompt
    style_guide: StyleGuide | None = None
    size: Resolution = field(default_factory=lambda: Resolution(width=1080, height=1920))


@dataclass(frozen=True)
class Picture:
    data: bytes = field(repr=False)
    mime_type: str
    note: str | None = None  # e.g. "local provider: a designed card, not a generated image"


@dataclass(frozen=True)
class VideoJob:
    image: bytes = field(repr=False)  # the first frame (PNG/JPEG/WebP bytes)
    prompt: str
    duration_s: float
    instruction: str = ""  # the project's / work's video system prompt
    style_guide: StyleGuide | None = None
    size: Resolution = field(default_factory=lambda: Resolution(width=1080, height=1920))
    camera_movement: str | None = None  # one of schemas.CAMERA_MOVEMENTS, else read from the prompt


@dataclass(frozen=True)
class VideoStart:
    """What starting a video gave: an operation to poll, or (local) the finished file."""

    operation: str | None = None
    path: Path | None = None  # finished at once: an MP4 on local disk
    note: str | None = None


class Vision(Protocol):
    def analyze(self, video: Path, *, mode: str, analyzer_prompt: str | None,
                on_progress: Progress | None = None) -> AnalysisResult: ...

    def describe(self, still: bytes, measured: str) -> str:
        """A project asset's picture described (the local provider says what it measured)."""
        ...


class Writer(Protocol):
    def scenario(self, brief: ScenarioBrief) -> list[ScenarioScene]: ...

    def style_guide(self, text: str) -> StyleGuide: ...

    def landing(self, page: LandingPage, *, include_product_info: bool, mode: str) -> dict: ...


class ImageMaker(Protocol):
    def image(self, job: ImageJob) -> Picture: ...


class VideoMaker(Protocol):
    def start(self, job: VideoJob, workdir: Path) -> VideoStart: ...

    def poll(self, operation: str) -> TaskState: ...
