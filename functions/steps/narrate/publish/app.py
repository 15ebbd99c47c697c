"""Step `publish` of the narrated-video surface's `generate` state machine (logic in reelforge.narrate.steps.publish_step)."""

from reelforge.narrate.steps import publish_step
from reelforge.workflow import lambda_step

handler = lambda_step(publish_step)
