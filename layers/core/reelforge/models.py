"""Media models shared by the toolkit (media/) and every surface."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MediaInfo(BaseModel):
    """What a probe learns about a media file."""

    duration: float = Field(description="seconds")
    size_bytes: int
    format_name: str
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    rotation: int = 0


class Word(BaseModel):
    word: str
    start: float
    end: float
    probability: float = 1.0


class TranscriptSegment(BaseModel):
    """One stretch of speech (a Whisper segment), not a timeline segment."""

    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)


class Transcript(BaseModel):
    language: str
    language_probability: float = 1.0
    duration: float
    segments: list[TranscriptSegment] = Field(default_factory=list)
    model: str = ""

    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()


class Scene(BaseModel):
    start: float
    end: float
