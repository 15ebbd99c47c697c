"""Step `finish_media` of the script studio's `media` state machine (logic in reelforge.studio.steps.finish_media_step)."""

from reelforge.studio.steps import finish_media_step
from reelforge.workflow import lambda_step

handler = lambda_step(finish_media_step)
