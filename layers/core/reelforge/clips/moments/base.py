"""Ports for the AI steps: what every provider (local, gemini) implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from reelforge.ai.moments import MomentRequest
    from reelforge.models import Moment, Scene, Transcript


@runtime_checkable
class MomentProvider(Protocol):
    """Proposes clip candidates for the "select moments" step.

    ``propose`` returns raw candidates: times may be approximate, may overlap and may
    miss the length limits. ``reelforge.ai.moments.finalize`` (called by
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
