"""Step `start` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.start_step)."""

from reelforge.narrate.steps import start_step
from reelforge.workflow import lambda_step

handler = lambda_step(start_step)
