"""Step `mark_failed` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.mark_failed_step)."""

from reelforge.narrate.steps import mark_failed_step
from reelforge.workflow import lambda_step

handler = lambda_step(mark_failed_step)
