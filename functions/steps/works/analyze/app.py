"""Step `analyze` of the AutoVio `works` state machine (logic in reelforge.works.steps.analyze_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import analyze_step

handler = lambda_step(analyze_step)
