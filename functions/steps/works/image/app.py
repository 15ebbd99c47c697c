"""Step `image` of the AutoVio `works` state machine (logic in reelforge.works.steps.image_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import image_step

handler = lambda_step(image_step)
