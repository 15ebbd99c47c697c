"""Step `scene_failed` of the AutoVio `works` state machine (logic in reelforge.works.steps.scene_failed_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import scene_failed_step

handler = lambda_step(scene_failed_step)
