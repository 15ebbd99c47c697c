"""Step `mark_failed` of the clips surface's state machine (logic in reelforge.clips.steps.mark_failed_step)."""

from reelforge.clips.steps import mark_failed_step
from reelforge.workflow import lambda_step

handler = lambda_step(mark_failed_step)
