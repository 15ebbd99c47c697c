"""Step `media_plan` of the script studio's `media` state machine (logic in reelforge.studio.steps.media_plan_step)."""

from reelforge.studio.steps import media_plan_step
from reelforge.workflow import lambda_step

handler = lambda_step(media_plan_step)
