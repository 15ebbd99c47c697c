"""Step `failed` of the AutoVio `works` state machine (logic in reelforge.works.steps.failed_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import failed_step

handler = lambda_step(failed_step)
