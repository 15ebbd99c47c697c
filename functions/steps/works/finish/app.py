"""Step `finish` of the AutoVio `works` state machine (logic in reelforge.works.steps.finish_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import finish_step

handler = lambda_step(finish_step)
