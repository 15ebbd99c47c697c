"""Step `export` of the AutoVio `works` state machine (logic in reelforge.works.steps.export_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import export_step

handler = lambda_step(export_step)
