"""The moment-selection port: what every provider (local, gemini) proposes, and how."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from reelforge.clips.moments.select import MomentRequest
    from reelforge.models import Scene, Transcript


class Moment(BaseModel):
    """A clip candidate chosen by a moment-selection provider."""

    start: float
    end: float
    title: str
    hook: str
    score: int = Field(ge=0, le=100)
    reason: str
    text: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start


@runtime_checkable
class MomentProvider(Protocol):
    """Proposes clip candidates for the "select moments" step.

    ``propose`` returns raw candidates: times may be approximate, may overlap and may
    miss the length limits. ``reelforge.clips.moments.select.finalize`` (called by
    ``select_moments``) snaps, trims and de-overlaps them, so every provider gets the
    same guarantees without repeating that code.
    """

    name: str

    def propose(
        self,
        transcript: Transcript,
        scenes: list[Scene],
        duration: float,
        request: MomentRequest,
    ) -> list[Moment]: ...
