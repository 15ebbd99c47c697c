"""The writing port: what a provider (local, gemini) writes for a narrated video.

A writer turns a brief into the slides (`write_content`) and then the narration of each
slide (`write_script`); the steps store both and everything after them (narration, slides,
the video) reads only those documents, so an edited document renders like a written one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from reelforge.narrate.schemas import Content, Script

# Narration speed used to size a script when the voice's own is not known (words per second;
# media.tts.Voice.words_per_second has the measured ones).
WORDS_PER_SECOND = 2.9
# Each slide adds a pause before and after its narration (media.compose LEAD_S + TAIL_S).
PAUSE_PER_SLIDE_S = 0.9


@dataclass(frozen=True)
class Brief:
    """What the user asked for."""

    topic: str
    num_slides: int = 5
    language: str = "english"
    tone: str = "formal"
    source_text: str | None = None
    target_duration_s: float | None = None
    words_per_second: float = WORDS_PER_SECOND  # the narrating voice's

    def words_per_slide(self) -> int | None:
        """The narration budget per slide that fills target_duration_s, or None (free)."""
        if not self.target_duration_s:
            return None
        speaking = max(2.0, self.target_duration_s - PAUSE_PER_SLIDE_S * self.num_slides)
        return max(4, round(speaking * self.words_per_second / self.num_slides))


@runtime_checkable
class Writer(Protocol):
    name: str

    def write_content(self, brief: Brief) -> Content:
        """`brief.num_slides` slides: title, on-screen text, whether it shows an image."""
        ...

    def write_script(self, brief: Brief, content: Content) -> Script:
        """One narration per slide of `content`, in `brief.language`, sized to the target."""
        ...
