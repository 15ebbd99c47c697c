"""Step `scenario` of the AutoVio `works` state machine (logic in reelforge.works.steps.scenario_step)."""

from reelforge.workflow import lambda_step
from reelforge.works.steps import scenario_step

handler = lambda_step(scenario_step)
