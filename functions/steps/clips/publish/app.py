"""Step `publish` of the clips surface's state machine (logic in reelforge.clips.steps.publish_step)."""

from reelforge.clips.steps import publish_step
from reelforge.workflow import lambda_step

handler = lambda_step(publish_step)
