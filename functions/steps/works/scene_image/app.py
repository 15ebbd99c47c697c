"""Step `scene_image` of the AutoVio `works` state machine (logic in reelforge.works.steps.scene_image_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import scene_image_step

handler = lambda_step(scene_image_step)
