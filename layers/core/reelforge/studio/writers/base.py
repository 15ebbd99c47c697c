"""The writing port of the script studio: what a provider (local, gemini) writes.

A studio script is sections of ordered sentences; each sentence is narration (`text`) plus
the prompts its picture and its clip are made from and a camera movement. Short scripts
are written in one call (`script`); long ones from an outline (`outline`), section after
section (`section`), each call seeing a running summary of what was written and the topics
already covered, so sections do not repeat each other. `expand` suggests a few sentences to
insert into an existing section.

Sizing: narration runs at WORDS_PER_MINUTE, a sentence is SENTENCE_WORDS long, and a section
of N minutes has about N * WORDS_PER_MINUTE words (+- WORD_TOLERANCE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

CAMERA_MOVEMENTS = ("static", "pan_left", "pan_right", "zoom_in", "zoom_out", "orbit", "truck")
CameraMovement = Literal["static", "pan_left", "pan_right", "zoom_in", "zoom_out", "orbit", "truck"]
WORDS_PER_MINUTE = 150  # narration speed used to size scripts
SENTENCE_WORDS = (12, 20)  # a sentence's usual length in words
WORD_TOLERANCE = 0.2  # a section's +- 20 % around its word budget
MINUTES_PER_SECTION = 8  # long-form: one outline section per 8 minutes (ceil)
SUMMARY_MAX_CHARS = 1200  # the running summary handed from section to section
MAX_SOURCE_CHARS = 100_000  # the longest source text a writer reads
EXPAND_MODES = ("quick", "guided")


@dataclass(frozen=True)
class CastMember:
    """A character of the project's cast: who may speak a line and appear in pictures."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class ScriptBrief:
    """What the user asked for."""

    topic: str
    target_minutes: float
    visual_style: str = "cinematic"
    source_text: str | None = None
    cast: tuple[CastMember, ...] = ()
    language: str = "english"

    def words_for(self, minutes: float) -> int:
        """The narration budget (words) of `minutes` of video."""
        return words_for(minutes)

    @property
    def target_words(self) -> int:
        return words_for(self.target_minutes)

    @property
    def has_source(self) -> bool:
        return bool(self.source_text and self.source_text.strip())


def words_for(minutes: float) -> int:
    return max(1, round(minutes * WORDS_PER_MINUTE))


def sentence_range(minutes: float) -> tuple[int, int, int]:
    """(fewest, about, most) sentences for `minutes` of narration: the word budget +- the
    tolerance, cut into sentences of SENTENCE_WORDS."""
    words = words_for(minutes)
    shortest, longest = SENTENCE_WORDS
    about = max(1, round(words / ((shortest + longest) / 2)))
    fewest = max(1, math.floor(words * (1 - WORD_TOLERANCE) / longest))
    most = max(fewest, math.ceil(words * (1 + WORD_TOLERANCE) / shortest))
    return fewest, about, most


def outline_sections(target_minutes: float) -> int:
    """Long-form section count: one per MINUTES_PER_SECTION minutes, at least 1."""
    return max(1, math.ceil(target_minutes / MINUTES_PER_SECTION - 1e-9))


def script_sections(target_minutes: float) -> int:
    """Section count of a script written in one call (`Writer.script`): short videos get a
    few short sections (a 1-minute script has 2), long ones as many as an outline would."""
    wanted = math.ceil(target_minutes / 2 - 1e-9) + 1
    return max(2, min(wanted, max(6, outline_sections(target_minutes))))


def split_minutes(total: float, count: int) -> list[float]:
    """`total` minutes over `count` sections, as equal as 0.01 min allows, summing to it."""
    count = max(1, count)
    each = math.floor(total / count * 100) / 100
    parts = [each] * count
    parts[-1] = round(total - each * (count - 1), 2)
    return [max(0.01, p) for p in parts]


class SentenceDraft(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    image_prompt: str = Field(default="", max_length=2000)
    video_prompt: str = Field(default="", max_length=2000)
    camera_movement: CameraMovement = "static"
    speaker: str | None = None  # a cast member's name when that character speaks the line


class SectionDraft(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    sentences: list[SentenceDraft] = Field(min_length=1)


class ScriptDraft(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    sections: list[SectionDraft] = Field(min_length=1)
    note: str | None = None  # what the provider wants the user to know ("local provider: ...")


class OutlineSection(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    description: str = ""
    target_minutes: float = Field(gt=0)
    key_points: list[str] = Field(default_factory=list)


class OutlineDraft(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    sections: list[OutlineSection] = Field(min_length=1)
    note: str | None = None


class SectionResult(BaseModel):
    section: SectionDraft
    summary: str = Field(default="", max_length=SUMMARY_MAX_CHARS)  # running, this section included
    covered_topics: list[str] = Field(default_factory=list)  # all so far, this section's added


@runtime_checkable
class Writer(Protocol):
    name: str

    def outline(self, brief: ScriptBrief, *, sections: int | None = None) -> OutlineDraft:
        """The plan of a long script: `sections` sections (None: `outline_sections`) whose
        target minutes add up to the brief's."""
        ...

    def section(self, brief: ScriptBrief, outline: OutlineDraft, index: int, *,
                running_summary: str, covered_topics: list[str]) -> SectionResult:
        """`outline.sections[index]`, sized to its target minutes, not repeating `covered_topics`."""
        ...

    def script(self, brief: ScriptBrief) -> ScriptDraft:
        """A short script in one call: `script_sections` sections sized to the target."""
        ...

    def expand(self, brief: ScriptBrief, *, section_title: str, context: list[str],
               after: str | None, count: int, mode: str, prompt: str | None) -> list[SentenceDraft]:
        """`count` new sentences continuing the section (its sentence texts: `context`) after
        the sentence `after` (None: after the last); mode "quick" continues, "guided" follows
        `prompt`."""
        ...


# --- small helpers both writers use ----------------------------------------------------------

def clip(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters (cut at a word, with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(",;:") + "…"


def merge_topics(covered: list[str], new: list[str]) -> list[str]:
    """`covered` then the `new` topics it lacks (case-insensitive), in order."""
    seen = {" ".join(t.lower().split()) for t in covered}
    merged = list(covered)
    for topic in new:
        key = " ".join(topic.lower().split())
        if key and key not in seen:
            seen.add(key)
            merged.append(" ".join(topic.split()))
    return merged


def join_summary(running: str, addition: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """The running summary with `addition`, at most `limit` characters: the oldest lines give
    way first (the newest sections matter most to the next one)."""
    lines = [ln for ln in (running or "").splitlines() if ln.strip()]
    lines.append(" ".join(addition.split()))
    while len(lines) > 1 and len("\n".join(lines)) > limit:
        lines.pop(0)
    return clip("\n".join(lines), limit) if len("\n".join(lines)) > limit else "\n".join(lines)
