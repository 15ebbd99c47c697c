"""Step `scene_done` of the AutoVio `works` state machine (logic in reelforge.works.steps.scene_done_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import scene_done_step

handler = lambda_step(scene_done_step)
