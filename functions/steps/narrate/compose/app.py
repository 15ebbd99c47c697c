"""Step `compose` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.compose_step)."""

from reelforge.narrate.steps import compose_step
from reelforge.workflow import lambda_step

handler = lambda_step(compose_step)
