"""Step `timeline` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.timeline_step)."""

from reelforge.narrate.steps import timeline_step
from reelforge.workflow import lambda_step

handler = lambda_step(timeline_step)
